# Every program and subcommand answers --help on stdout with exit 0, and
# refuses unknown input with a usage message and exit 2.
. "$(dirname "$0")/../lib/common.sh"

for p in tally tally-broker tally-node; do
	"$TALLY_BIN/$p" --help >"$TALLY_TMP/out" || fail "$p --help failed"
	expect_grep usage "$TALLY_TMP/out"
	expect_exit 2 "$TALLY_BIN/$p" --no-such-option 2>/dev/null
done
expect_exit 2 "$T" 2>/dev/null
expect_exit 2 "$T" frobnicate 2>/dev/null
for c in pki gen load local approve submit results status audit; do
	"$T" --help | grep -q "^  $c " || fail "tally --help does not list $c"
done

# -n checks a configuration file and reports the line of a problem.
pk=$TALLY_TMP/pki
"$T" pki init --dir "$pk" --consortium test >/dev/null
for n in broker:broker node:snuh drb:drb; do
	"$T" pki issue --dir "$pk" --role ${n%%:*} --name ${n#*:} >/dev/null
done
: >"$TALLY_TMP/snuh.db"
sed -e "s#/etc/tally/pki/#$pk/#; s#/etc/tally/hospitals.csv#$TALLY_TOP/deploy/network/hospitals.csv#" \
    -e "s#/var/lib/tally/#$TALLY_TMP/#" "$TALLY_TOP/deploy/broker.conf" >"$TALLY_TMP/broker.conf"
sed -e "s#/etc/tally/pki/#$pk/#; s#/var/lib/tally/baseline.db#$TALLY_TMP/snuh.db#" \
    -e "s#/var/lib/tally/#$TALLY_TMP/#" "$TALLY_TOP/deploy/node.conf" >"$TALLY_TMP/node.conf"
"$TALLY_BIN/tally-broker" -n -c "$TALLY_TMP/broker.conf" >"$TALLY_TMP/out"
expect_grep "configuration OK" "$TALLY_TMP/out"
"$TALLY_BIN/tally-node" -n -c "$TALLY_TMP/node.conf" >"$TALLY_TMP/out"
expect_grep "configuration OK" "$TALLY_TMP/out"

printf 'listen tcp\n' >"$TALLY_TMP/bad.conf"
expect_exit 1 "$TALLY_BIN/tally-node" -n -c "$TALLY_TMP/bad.conf" 2>"$TALLY_TMP/err"
expect_grep "bad.conf:1: expected key = value" "$TALLY_TMP/err"
sed 's/^min_cell = 10/min_cell = ten/' "$TALLY_TMP/node.conf" >"$TALLY_TMP/n2.conf"
expect_exit 1 "$TALLY_BIN/tally-node" -n -c "$TALLY_TMP/n2.conf" 2>"$TALLY_TMP/err"
expect_grep "n2.conf:[0-9]*: min_cell must be a whole number" "$TALLY_TMP/err"
echo "typo = 1" >>"$TALLY_TMP/broker.conf"
expect_exit 1 "$TALLY_BIN/tally-broker" -n -c "$TALLY_TMP/broker.conf" 2>"$TALLY_TMP/err"
expect_grep "unknown setting 'typo'" "$TALLY_TMP/err"
chmod 0644 "$pk/snuh.key"
expect_exit 1 "$TALLY_BIN/tally-node" -n -c "$TALLY_TMP/node.conf" 2>"$TALLY_TMP/err"
expect_grep "key:" "$TALLY_TMP/err"
echo ok
