# /status as a real browser renders it (headless Debian chromium): every
# node of the network file listed under its own consortium, in the file's
# order (lead first); down and missing nodes marked DOWN; a node stopped
# while the page is served shows DOWN on the next load; a screenshot.
#
# Needs chromium, which is not a build dependency: `TALLY_BROWSER_TESTS=1
# make deps` installs it. Without it this test is skipped, visibly.
# TALLY_SCREENSHOT_DIR=DIR keeps the screenshots.
. "$(dirname "$0")/../lib/common.sh"

browser=
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null; then browser=$b; break; fi
done
[ -n "$browser" ] ||
	skip "chromium not installed (TALLY_BROWSER_TESTS=1 make deps installs it)"

. "$(dirname "$0")/http_serve.bash"
serve_start --down amc,knuh --missing kims-eye --stop snuh

# render OUT ARGS...: loads /status once, with a fresh profile.
render() {
	out=$1; shift
	rm -rf "$TALLY_TMP/profile"
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$TALLY_TMP/profile" --hide-scrollbars \
	    --window-size=1400,1600 "$@" "http://127.0.0.1:$PORT/status" \
	    >"$out" 2>>"$TALLY_TMP/browser.log" ||
		{ tail -5 "$TALLY_TMP/browser.log" >&2; fail "$browser failed"; }
}

# "consortium site state" for every node row of a dumped DOM, in order.
rows() {
	awk '
	/<tbody class="consortium" data-consortium="/ {
		c = $0; sub(/.*data-consortium="/, "", c); sub(/".*/, "", c)
	}
	/<tr class="node [a-z ]*" data-site="/ {
		s = $0; sub(/.*data-site="/, "", s); sub(/".*/, "", s)
		st = $0; sub(/.*<td class="state">/, "", st); sub(/<.*/, "", st)
		print c, s, st
	}' "$1"
}

render "$TALLY_TMP/dom1.html" --dump-dom
expect_grep '<title>tally status</title>' "$TALLY_TMP/dom1.html"
rows "$TALLY_TMP/dom1.html" >"$TALLY_TMP/rows1"
[ -s "$TALLY_TMP/rows1" ] || fail "no node rows in the rendered page"

# Every node, under its consortium, in the network file's order.
tail -n +2 "$NETWORK" | cut -d, -f1,2 | tr , ' ' >"$TALLY_TMP/want"
cut -d' ' -f1,2 "$TALLY_TMP/rows1" >"$TALLY_TMP/got"
diff "$TALLY_TMP/want" "$TALLY_TMP/got" >&2 ||
	fail "rendered nodes differ from $NETWORK (by consortium, lead first)"
[ "$(wc -l <"$TALLY_TMP/got")" = 43 ] || fail "expected 43 nodes"

state() { awk -v s="$2" '$2 == s { $1 = ""; $2 = ""; sub(/^  /, ""); print }' "$1"; }
[ "$(state "$TALLY_TMP/rows1" amc)" = DOWN ] || fail "amc not DOWN"
[ "$(state "$TALLY_TMP/rows1" knuh)" = DOWN ] || fail "knuh not DOWN"
[ "$(state "$TALLY_TMP/rows1" kims-eye)" = "DOWN (missing)" ] ||
	fail "kims-eye not DOWN (missing)"
[ "$(state "$TALLY_TMP/rows1" snuh)" = up ] || fail "snuh not up"
[ "$(grep -c ' up$' "$TALLY_TMP/rows1")" = 40 ] || fail "expected 40 up"
render "$TALLY_TMP/shot.out" --screenshot="$TALLY_TMP/before.png"

# Stop snuh: the next load shows it DOWN.
kill -USR1 "$SERVE_PID"
sleep 0.5
render "$TALLY_TMP/dom2.html" --dump-dom
rows "$TALLY_TMP/dom2.html" >"$TALLY_TMP/rows2"
[ "$(state "$TALLY_TMP/rows2" snuh)" = DOWN ] ||
	fail "stopped node snuh is not DOWN: $(state "$TALLY_TMP/rows2" snuh)"
grep -q '<tr class="node down" data-site="snuh">' "$TALLY_TMP/dom2.html" ||
	fail "snuh's row lacks class down"
[ "$(grep -c ' up$' "$TALLY_TMP/rows2")" = 39 ] || fail "expected 39 up"
render "$TALLY_TMP/shot.out" --screenshot="$TALLY_TMP/after.png"

for f in before after; do
	png=$TALLY_TMP/$f.png
	[ -s "$png" ] && [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = \
	    89504e470d0a1a0a ] || fail "no PNG screenshot $png"
	[ "$(wc -c <"$png")" -gt 20000 ] || fail "$png is nearly empty"
	if [ -n "${TALLY_SCREENSHOT_DIR:-}" ]; then
		cp "$png" "$TALLY_SCREENSHOT_DIR/status-$f.png"
	fi
done
serve_stop
echo "browser test OK: $($browser --version 2>/dev/null)"
