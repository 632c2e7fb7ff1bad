# Oversized frames, garbage and a flood of half-open sessions leave the
# broker serving its good clients: a registered node keeps getting every
# reply without losing its session, and a new node still gets in.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/chan_env.bash"

pki_init
pki_issue node snuh
pki_issue node amc
start_broker "$(conf broker "" "chan_max_handshakes = 16" \
    "chan_max_sessions = 64")"
OUT=$TALLY_TMP/snuh.out
"$P/chan_client" -c "$(conf snuh)" -e "$EPF" -s -i 100 -t 60000 >"$OUT" &
CLIENT=$!
PIDS="$PIDS $CLIENT"
wait_for "reply 2 re:tick 2" "$OUT" 10

for i in 1 2 3; do
	"$P/chan_raw" "$EP" oversize
done
"$P/chan_raw" "$EP" garbage 2000
"$P/chan_raw" "$EP" halfopen 300 2000 &
FLOOD=$!
PIDS="$PIDS $FLOOD"
"$P/chan_raw" "$EP" garbage 2000
# While the flood holds its connections, a new node registers.
sleep 0.5
"$P/chan_client" -c "$(conf amc)" -e "$EPF" -t 20000 "count during flood" \
    >"$TALLY_TMP/amc.out" || { cat "$TALLY_TMP/amc.out"; fail "new node not served"; }
wait "$FLOOD"

last=$(grep -c " sent " "$OUT")
wait_for "reply $last re:tick $last" "$OUT" 10
kill -TERM "$CLIENT"
wait "$CLIENT" || true
if grep -q " down" "$OUT"; then
	cat "$OUT"
	fail "the registered node lost its session"
fi
for i in $(seq 1 "$last"); do
	n=$(grep -c "reply $i re:tick $i\$" "$OUT")
	[ "$n" = 1 ] || fail "tick $i has $n replies"
done
stop_broker
stats=$(grep "^stats" "$TALLY_TMP/broker.out")
echo "$last ticks answered during the abuse; broker $stats"
case $stats in
*" evicted=0 "*) fail "no half-open session was evicted" ;;
*" dropped=0 "*) fail "no garbage was dropped" ;;
esac
expect_grep "evicting half-open session" "$TALLY_TMP/broker.err"
echo ok
