# SIGSTOP of the broker: a node sending a request every 150 ms notices the
# silence through heartbeats (chan_heartbeat_timeout_ms = 1000) and, after
# SIGCONT, registers again; every request, including those sent while the
# broker was stopped, gets exactly one reply.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/chan_env.bash"

pki_init
pki_issue node snuh
OUT=$TALLY_TMP/snuh.out
start_broker "$(conf broker)"
"$P/chan_client" -c "$(conf snuh)" -e "$EPF" -s -i 150 -t 30000 >"$OUT" &
CLIENT=$!
PIDS="$PIDS $CLIENT"
wait_for "reply 3 re:tick 3" "$OUT" 10

t0=$(now_ms)
kill -STOP "$BROKER"
wait_for "down" "$OUT" 10
t1=$(now_ms)
echo "silence noticed after $((t1 - t0)) ms (heartbeat timeout 1000 ms)"
# A stopped process keeps its TCP connection open: only the heartbeat
# timer can notice it, so seeing "down" at all (above) is the check; how
# soon is a figure for the log, not a pass/fail (a loaded machine is slow).
grep -E "down (broker silent|connection closed)" "$OUT" || fail "down without a heartbeat reason"
sleep 0.5
kill -CONT "$BROKER"
end=$(( $(now_ms) + 10000 ))
while [ "$(grep -c ' up broker' "$OUT")" -lt 2 ]; do
	[ "$(now_ms)" -lt "$end" ] || { cat "$OUT"; fail "no new registration"; }
	sleep 0.05
done
last=$(grep -c " sent " "$OUT")
wait_for "reply $last re:tick $last" "$OUT" 10
kill -TERM "$CLIENT"
wait "$CLIENT" || true

# Every tick sent got exactly one reply.
sent=$(grep -c " sent " "$OUT")
for i in $(seq 1 "$last"); do
	n=$(grep -c "reply $i re:tick $i\$" "$OUT")
	[ "$n" = 1 ] || { cat "$OUT"; fail "tick $i has $n replies"; }
done
echo "$sent ticks sent, the first $last each answered once"
echo ok
