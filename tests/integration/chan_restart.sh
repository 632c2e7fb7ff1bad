# kill -9 of the broker while a request is in flight, and a restart on the
# same endpoint: the node re-handshakes by itself, re-sends what was not
# answered, and each request takes effect exactly once (the journal counts
# executions; the node counts replies).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/chan_env.bash"

pki_init
pki_issue node snuh
J=$TALLY_TMP/journal
OUT=$TALLY_TMP/snuh.out

# The first broker answers "count" and holds "held-" requests.
start_broker "$(conf broker)" -j "$J" -H held-
"$P/chan_client" -v -c "$(conf snuh)" -e "$EPF" -t 30000 \
    "count A" "held-count B" >"$OUT" 2>"$TALLY_TMP/snuh.err" &
CLIENT=$!
PIDS="$PIDS $CLIENT"
wait_for "reply 1 re:count A" "$OUT" 10
wait_for "holding 2 held-count B" "$TALLY_TMP/broker.out" 10

kill -9 "$BROKER"
wait "$BROKER" 2>/dev/null || true
wait_for "down" "$OUT" 10

# A new broker instance on the same endpoint.
start_broker "$(conf broker "" "listen = $EP")" -j "$J"
wait "$CLIENT" || { cat "$OUT"; fail "the node did not complete"; }
cat "$OUT"

[ "$(grep -c ' up broker' "$OUT")" = 2 ] || fail "expected two registrations"
[ "$(grep -c 'reply 1 ' "$OUT")" = 1 ] || fail "request 1 answered twice"
[ "$(grep -c 'reply 2 re:held-count B' "$OUT")" = 1 ] ||
	fail "request 2 not answered exactly once"
[ "$(grep -c 'count A' "$J")" = 1 ] || fail "count A executed $(grep -c 'count A' "$J") times"
[ "$(grep -c 'held-count B' "$J")" = 1 ] || fail "held-count B executed $(grep -c 'held-count B' "$J") times"
expect_grep "broker broker restarted" "$TALLY_TMP/snuh.err"
echo ok
