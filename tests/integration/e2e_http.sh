# End to end, operators: the real broker's /metrics moves when queries run
# and the status page marks a node that stopped as down (checked in
# headless Chromium when it is installed, from the HTML otherwise).
. "$(dirname "$0")/../lib/common.sh"
NET_HTTP=$(free_port)
. "$(dirname "$0")/../lib/net.sh"

get() { # get PATH OUT
	if command -v curl >/dev/null; then
		curl -sf "http://127.0.0.1:$NET_HTTP$1" >"$2"
	else
		python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
		    "http://127.0.0.1:$NET_HTTP$1" >"$2"
	fi
}
metric() { awk -v m="$1" '$1 == m {print $2}' "$2"; }
# until_ok WHAT CMD...: runs CMD every 0.2 s until it succeeds, for at most
# 15 s (the broker publishes once a second; a loaded machine is slower).
until_ok() {
	_what=$1; shift
	_end=$(( $(date +%s) + 15 ))
	until "$@"; do
		[ "$(date +%s)" -lt "$_end" ] || fail "$_what"
		sleep 0.2
	done
}
metric_is() { get /metrics "$TALLY_TMP/m"; [ "$(metric "$1" "$TALLY_TMP/m")" = "$2" ]; }

net_init
net_start_all
net_wait_nodes 5
until_ok "nodes connected" metric_is tally_nodes_connected 5
get /metrics "$TALLY_TMP/m0"
q0=$(metric 'tally_queries{state="complete"}' "$TALLY_TMP/m0")

q=$TALLY_TOP/docs/examples/ibd.json
net_approve "$q" >"$TALLY_TMP/a.json"
net_submit --approval "$TALLY_TMP/a.json" --wait "$q" >/dev/null 2>&1
net_submit --approval "$TALLY_TMP/a.json" --wait "$q" >/dev/null 2>&1
until_ok "complete queries did not go from ${q0:-0} to $((${q0:-0} + 2))" \
    metric_is 'tally_queries{state="complete"}' $((${q0:-0} + 2))
cp "$TALLY_TMP/m" "$TALLY_TMP/m1"
c=$(metric tally_query_latency_seconds_count "$TALLY_TMP/m1")
[ "${c:-0}" -ge 2 ] || fail "latency histogram did not move"
# Nothing about patients or queries on the endpoint.
! grep -qi 'K50\|ibd\|"count"' "$TALLY_TMP/m1" || fail "query content in /metrics"

# A node stops: the page marks it down.
net_node_kill ncc
# Down after the heartbeat timeout (2 s) and the next publication.
ncc_down() { get /status "$TALLY_TMP/status.html"; grep 'data-site="ncc"' "$TALLY_TMP/status.html" | grep -q 'DOWN'; }
until_ok "ncc not marked down" ncc_down
grep -q 'data-site="ncc"' "$TALLY_TMP/status.html" || fail "ncc not listed"
grep 'data-site="snuh"' "$TALLY_TMP/status.html" | grep -q '>up<' || fail "snuh not up"
get /status.json "$TALLY_TMP/status.json"
[ "$(json_field "$TALLY_TMP/status.json" '[n["connected"] for n in d["nodes"] if n["site"] == "ncc"][0]')" = False ] || fail "json: ncc connected"

browser=
for b in chromium chromium-browser; do command -v $b >/dev/null && browser=$b && break; done
if [ -n "$browser" ]; then
	timeout 120 $browser --headless --no-sandbox --disable-gpu --disable-quic \
	    --no-first-run --disable-background-networking --disable-component-update \
	    --disable-sync --user-data-dir="$TALLY_TMP/profile" --dump-dom \
	    "http://127.0.0.1:$NET_HTTP/status" >"$TALLY_TMP/dom.html" 2>/dev/null
	grep 'data-site="ncc"' "$TALLY_TMP/dom.html" | grep -q DOWN || fail "browser: ncc not down"
	for s in $NET_SITES; do grep -q "data-site=\"$s\"" "$TALLY_TMP/dom.html" || fail "browser: $s missing"; done
	echo "checked in $browser too"
fi
echo ok
