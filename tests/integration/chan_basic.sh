# A node and a researcher register with the broker over mutual TLS inside
# ZeroMQ and exchange requests; identities come from the certificates.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/chan_env.bash"

pki_init
pki_issue node snuh
pki_issue researcher kim.jh
start_broker "$(conf broker)"

"$P/chan_client" -c "$(conf snuh)" -e "$EPF" -t 10000 \
    "count KCD8:I48*" "count ATC:B01AA*" >"$TALLY_TMP/snuh.out" ||
	{ cat "$TALLY_TMP/snuh.out"; fail "node exchange failed"; }
expect_grep "up broker" "$TALLY_TMP/snuh.out"
expect_grep "reply 1 re:count KCD8:I48\*" "$TALLY_TMP/snuh.out"
expect_grep "reply 2 re:count ATC:B01AA\*" "$TALLY_TMP/snuh.out"

"$P/chan_client" -c "$(conf kim.jh)" -e "$EPF" -t 10000 "results q-1" \
    >"$TALLY_TMP/kim.out" || fail "researcher exchange failed"
expect_grep "reply 1 re:results q-1" "$TALLY_TMP/kim.out"

# The broker saw who they are, from their certificates.
wait_for "down researcher kim.jh" "$TALLY_TMP/broker.out" 5
expect_grep "up node snuh" "$TALLY_TMP/broker.out"
expect_grep "request snuh 1 count KCD8:I48\*" "$TALLY_TMP/broker.out"
expect_grep "up researcher kim.jh" "$TALLY_TMP/broker.out"
expect_grep "node snuh connected from 127.0.0.1" "$TALLY_TMP/broker.err"

# The broker's own certificate must be a broker's.
expect_exit 1 "$P/chan_broker" -c "$(conf snuh)" 2>"$TALLY_TMP/err"
expect_grep "a node certificate cannot be a TLS server" "$TALLY_TMP/err"
stop_broker
expect_grep "^stats sessions=0 refused=0" "$TALLY_TMP/broker.out"
echo ok
