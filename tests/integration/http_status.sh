# The broker's HTTP endpoint, served by the real server code
# (tests/progs/status_serve) over all 43 sites of the network file with
# some down: status codes, content types, 404/405/HEAD, every site on
# every page, a node stopped while serving, and no counts or query text.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/http_serve.bash"

serve_start --down amc,knuh --missing kims-eye --stop snuh
o=$TALLY_TMP/r
sites=$(tail -n +2 "$NETWORK" | cut -d, -f2)
[ "$(echo "$sites" | wc -l)" = 43 ] || fail "expected 43 sites in $NETWORK"

# /metrics
[ "$(http_get GET /metrics "$o")" = 200 ] || fail "GET /metrics"
expect_grep '^Content-Type: text/plain; version=0.0.4' "$o.h"
expect_grep '^tally_nodes 43$' "$o.b"
expect_grep '^tally_nodes_connected 40$' "$o.b"
expect_grep '^tally_nodes_missing 1$' "$o.b"
expect_grep '^tally_node_up{site="amc",consortium="5"} 0$' "$o.b"
expect_grep '^tally_node_up{site="snuh",consortium="4"} 1$' "$o.b"
expect_grep '^tally_query_latency_seconds_bucket{le="+Inf"} ' "$o.b"
for s in $sites; do
	grep -q "^tally_node_up{site=\"$s\"," "$o.b" || fail "no $s in /metrics"
done
help=$(grep -c '^# HELP ' "$o.b")
type=$(grep -c '^# TYPE ' "$o.b")
[ "$help" = "$type" ] && [ "$help" -ge 15 ] ||
	fail "$help HELP lines, $type TYPE lines"
# Row counts are in the snapshot (status_serve sets person and visit
# rows), never in the metrics.
if grep -Eiq 'person|visit|rows|patient' "$o.b"; then
	fail "/metrics mentions table rows"
fi

# /status
[ "$(http_get GET /status "$o")" = 200 ] || fail "GET /status"
expect_grep '^Content-Type: text/html; charset=utf-8' "$o.h"
expect_grep '<meta http-equiv="refresh" content="5">' "$o.b"
expect_grep '<tr class="node down" data-site="amc">.*<td class="state">DOWN</td>' "$o.b"
expect_grep '<tr class="node down missing" data-site="kims-eye">.*DOWN (missing)' "$o.b"
expect_grep '<tr class="node up" data-site="snuh">' "$o.b"
[ "$(grep -c '<tbody class="consortium"' "$o.b")" = 7 ] ||
	fail "expected 7 consortium sections"
for s in $sites; do
	grep -q "data-site=\"$s\"" "$o.b" || fail "no $s on /status"
done
if grep -Eq '<script|src=|https?://' "$o.b"; then
	fail "/status loads something from elsewhere"
fi

# /status.json
[ "$(http_get GET /status.json "$o")" = 200 ] || fail "GET /status.json"
expect_grep '^Content-Type: application/json' "$o.h"
[ "$(grep -c '"site": ' "$o.b")" = 43 ] || fail "43 sites in /status.json"
expect_grep '"uptime_s": ' "$o.b"
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
assert len(d["nodes"]) == 43
assert sum(not n["connected"] for n in d["nodes"]) == 3
assert set(d["queries"]) == {"running", "complete", "partial", "failed"}' \
	    "$o.b" || fail "/status.json does not parse as expected"
fi

# Nothing a query or a result holds appears on any page.
for p in /metrics /status /status.json; do
	http_get GET "$p" "$o" >/dev/null
	if grep -Eiq 'query_id|"title"|KCD8|ICD10|LOINC|ATC:|"count"|suppressed' "$o.b"; then
		fail "$p shows query or result content"
	fi
done

# Other paths and methods.
for p in /nope /metrics/ /status.html /status%2Ejson; do
	[ "$(http_get GET "$p" "$o")" = 404 ] || fail "GET $p is not 404"
done
for m in POST PUT DELETE; do
	[ "$(http_get "$m" /metrics "$o")" = 405 ] || fail "$m is not 405"
	expect_grep '^Allow: GET, HEAD' "$o.h"
done
[ "$(http_get HEAD /status "$o")" = 200 ] || fail "HEAD /status"
[ ! -s "$o.b" ] || fail "HEAD /status sent a body"
expect_grep '^Content-Length: [1-9]' "$o.h"

# A node stops: the next scrape and page say so.
kill -USR1 "$SERVE_PID"
for _ in $(seq 50); do
	http_get GET /metrics "$o" >/dev/null
	grep -q '^tally_node_up{site="snuh",consortium="4"} 0$' "$o.b" && break
	sleep 0.1
done
expect_grep '^tally_node_up{site="snuh",consortium="4"} 0$' "$o.b"
expect_grep '^tally_nodes_connected 39$' "$o.b"
http_get GET /status "$o" >/dev/null
expect_grep '<tr class="node down" data-site="snuh">.*DOWN' "$o.b"

serve_stop
echo "http endpoint OK (client: $(command -v curl >/dev/null && [ "${TALLY_HTTP_CLIENT:-}" != tcp ] && echo curl || echo /dev/tcp))"
