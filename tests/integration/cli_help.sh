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
printf '# broker\nlisten = tcp://127.0.0.1:9400\n' >"$TALLY_TMP/ok.conf"
"$TALLY_BIN/tally-broker" -n -c "$TALLY_TMP/ok.conf" >"$TALLY_TMP/out"
expect_grep "configuration OK" "$TALLY_TMP/out"
printf 'listen tcp\n' >"$TALLY_TMP/bad.conf"
expect_exit 1 "$TALLY_BIN/tally-node" -n -c "$TALLY_TMP/bad.conf" 2>"$TALLY_TMP/err"
expect_grep "bad.conf:1: expected key = value" "$TALLY_TMP/err"
echo ok
