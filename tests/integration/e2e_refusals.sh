# End to end: every way a submission is refused reaches the researcher
# with its reason, changes nothing, and is audited; a spent run budget is
# enforced by the nodes themselves.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/net.sh"

net_init
net_start_all
net_wait_nodes 5
q=$TALLY_TOP/docs/examples/early_crc.json
net_approve "$q" >"$TALLY_TMP/a.json"

refused() { # refused PATTERN CMD...: the command fails naming PATTERN
	pat=$1; shift
	if "$@" >"$TALLY_TMP/out" 2>"$TALLY_TMP/err"; then
		fail "'$*' was accepted"
	fi
	expect_grep "$pat" "$TALLY_TMP/err"
}

# Another researcher with kim's approval.
refused "approval is for researcher 'kim', not 'lee'" \
    "$T" submit -c "$NET/conf/lee.conf" --approval "$TALLY_TMP/a.json" "$q"
# A DRB the broker does not trust (a valid certificate of the same CA).
"$T" approve --key "$NET/pki/rogue-drb.key" --researcher kim --project p1 "$q" \
    >"$TALLY_TMP/rogue.json" 2>/dev/null
refused "signed by 'rogue-drb', not a trusted DRB key" \
    net_submit --approval "$TALLY_TMP/rogue.json" "$q"
# The query changed after approval.
sed 's/"max": 49/"max": 59/' "$q" >"$TALLY_TMP/changed.json"
refused "query does not match the approved digest" \
    net_submit --approval "$TALLY_TMP/a.json" "$TALLY_TMP/changed.json"
# A signed statement tampered with.
python3 - "$TALLY_TMP/a.json" "$TALLY_TMP/tampered.json" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
s = bytearray(base64.b64decode(d["statement"]))
s[-3] ^= 1
d["statement"] = base64.b64encode(bytes(s)).decode()
for k in ("researcher", "project", "sites", "not_before", "not_after", "max_runs", "min_cell", "query_sha256", "drb"):
    d.pop(k, None)
json.dump(d, open(sys.argv[2], "w"))
PY
refused "does not verify" net_submit --approval "$TALLY_TMP/tampered.json" "$q"
# Out of scope everywhere.
net_approve "$q" --sites consortium:6 >"$TALLY_TMP/scope.json"
refused "no hospital of this network is in the approval's scope" \
    net_submit --approval "$TALLY_TMP/scope.json" "$q"
# Roles: an operator or a node certificate cannot submit.
refused "role operator may not send submit" \
    "$T" submit -c "$NET/conf/ops.conf" --approval "$TALLY_TMP/a.json" "$q"
sed "s#/kim\.#/snuh.#" "$NET/conf/kim.conf" >"$TALLY_TMP/nodeclient.conf"
refused "role node may not send submit" \
    "$T" submit -c "$TALLY_TMP/nodeclient.conf" --approval "$TALLY_TMP/a.json" "$q"
# A researcher cannot ask for status.
refused "role researcher may not send status-request" \
    "$T" status -c "$NET/conf/kim.conf"

# Nothing was stored; every refusal is audited.
"$T" status -c "$NET/conf/ops.conf" --json >"$TALLY_TMP/st.json"
[ "$(json_field "$TALLY_TMP/st.json" 'sum(d["queries"].values())')" = 0 ] || fail "a refused query was stored"
n=$(sqlite3 "$NET/state/broker.db" "SELECT count(*) FROM audit WHERE event='refused'")
[ "$n" -ge 5 ] || fail "only $n refusals audited"

# Run budget: one run allowed. The broker refuses the second submission
# itself; every node has counted exactly one run (the nodes' own refusal
# of a run beyond the budget, which a compromised broker cannot bypass,
# is tested in test_node_task and test_node_state).
net_approve "$q" --runs 1 >"$TALLY_TMP/once.json"
net_submit --approval "$TALLY_TMP/once.json" --wait --json "$q" >"$TALLY_TMP/r1.json" 2>/dev/null
[ "$(json_field "$TALLY_TMP/r1.json" 'd["status"]')" = complete ] || fail "first run"
refused "approval's run budget of 1 is spent" \
    net_submit --approval "$TALLY_TMP/once.json" --wait --json "$q"
for s in $NET_SITES; do
	r=$(sqlite3 "$NET/state/node-$s.db" "SELECT runs FROM approval_runs")
	[ "$r" = 1 ] || fail "$s counted $r runs"
done
"$T" audit verify --db "$NET/state/broker.db" >/dev/null || fail "broker audit chain"
echo ok
