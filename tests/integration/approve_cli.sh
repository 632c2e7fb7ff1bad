# tally approve: signs a compiled query with a DRB key from tally pki;
# refuses loose key permissions, non-DRB keys, invalid queries (naming
# the field) and bad options.
. "$(dirname "$0")/../lib/common.sh"

pk=$TALLY_TMP/pki
"$T" pki init --dir "$pk" --consortium test >/dev/null
"$T" pki issue --dir "$pk" --role drb --name drb-a >/dev/null
"$T" pki issue --dir "$pk" --role node --name snuh >/dev/null
q=$TALLY_TOP/docs/examples/af_anticoagulant.json

"$T" approve --key "$pk/drb-a.key" --researcher kim --project af \
    --sites snuh,consortium:5 --days 7 --runs 3 --min-cell 11 "$q" \
    >"$TALLY_TMP/appr.json" 2>"$TALLY_TMP/err"
expect_grep '"researcher": "kim"' "$TALLY_TMP/appr.json"
expect_grep '"key_id": "drb-a"' "$TALLY_TMP/appr.json"
expect_grep '"max_runs": 3' "$TALLY_TMP/appr.json"
expect_grep '"consortium:5"' "$TALLY_TMP/appr.json"
expect_grep "approved query" "$TALLY_TMP/err"

# The same query written differently has the same digest.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d, sort_keys=True))' "$q" >"$TALLY_TMP/q2.json"
"$T" approve --key "$pk/drb-a.key" --researcher kim --project af "$TALLY_TMP/q2.json" >"$TALLY_TMP/appr2.json" 2>/dev/null
d1=$(grep query_sha256 "$TALLY_TMP/appr.json")
d2=$(grep query_sha256 "$TALLY_TMP/appr2.json")
[ "$d1" = "$d2" ] || fail "digest depends on JSON layout: $d1 vs $d2"

# Refusals.
chmod 0644 "$pk/drb-a.key"
expect_exit 1 "$T" approve --key "$pk/drb-a.key" --researcher kim --project af "$q" 2>"$TALLY_TMP/err" >/dev/null
expect_grep "drb-a.key" "$TALLY_TMP/err"
chmod 0600 "$pk/drb-a.key"
expect_exit 1 "$T" approve --key "$pk/snuh.key" --researcher kim --project af "$q" 2>"$TALLY_TMP/err" >/dev/null
expect_grep "not an Ed25519 DRB key" "$TALLY_TMP/err"
echo '{"title": "x", "index": {"diagnosis": {"codes": ["I48"]}}}' >"$TALLY_TMP/bad.json"
expect_exit 1 "$T" approve --key "$pk/drb-a.key" --researcher kim --project af "$TALLY_TMP/bad.json" 2>"$TALLY_TMP/err" >/dev/null
expect_grep "index.diagnosis.codes\[0\]" "$TALLY_TMP/err"
expect_exit 2 "$T" approve --key "$pk/drb-a.key" --researcher Kim! --project af "$q" 2>/dev/null
expect_exit 2 "$T" approve --key "$pk/drb-a.key" --researcher kim --project af --sites SNUH "$q" 2>/dev/null
expect_exit 2 "$T" approve --key "$pk/drb-a.key" --researcher kim --project af --runs 0 "$q" 2>/dev/null
expect_exit 2 "$T" approve --researcher kim --project af "$q" 2>/dev/null
echo ok
