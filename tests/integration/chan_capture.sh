# Nothing in clear: a capture of a whole exchange on loopback (tcpdump)
# holds none of the query text, codes, counts or hospital names sent both
# ways. A control capture of the same text sent over plain ZeroMQ must
# show it, so the check itself is known to work.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/chan_env.bash"

command -v tcpdump >/dev/null || skip "tcpdump is not installed"
[ "$(id -u)" = 0 ] || skip "capturing on lo needs root"

pki_init
pki_issue node snuh
start_broker "$(conf broker)"

# capture FILE: tcpdump on the broker's port until stop_capture.
capture() {
	tcpdump -Z root -i lo -U --immediate-mode -n -w "$1" "tcp port $PORT" 2>"$1.err" &
	CAP=$!
	PIDS="$PIDS $CAP"
	local end=$(( $(now_ms) + 5000 ))
	until grep -q "listening on" "$1.err" 2>/dev/null; do
		kill -0 "$CAP" 2>/dev/null || skip "tcpdump cannot capture: $(tail -1 "$1.err")"
		[ "$(now_ms)" -lt "$end" ] || skip "tcpdump did not start"
		sleep 0.05
	done
}
stop_capture() {
	sleep 0.3
	kill -TERM "$CAP" # (background jobs ignore SIGINT)
	wait "$CAP" 2>/dev/null || true
}

SECRETS="Seoul-National-University-Hospital KCD8:I48.91 ATC:B01AF01 LOINC:4548-4 count=4242 cohort-AF-anticoagulant snuh"
CAPF=$TALLY_TMP/tls.pcap
capture "$CAPF"
"$P/chan_client" -c "$(conf snuh)" -e "$EPF" -t 10000 \
    "query cohort-AF-anticoagulant index KCD8:I48.91 drug ATC:B01AF01" \
    "result Seoul-National-University-Hospital count=4242 lab LOINC:4548-4" \
    >"$TALLY_TMP/snuh.out" || fail "exchange failed"
stop_capture
expect_grep "reply 2 re:result Seoul-National-University-Hospital count=4242" \
    "$TALLY_TMP/snuh.out"
packets=$(tcpdump -r "$CAPF" -n 2>/dev/null | wc -l)
[ "$packets" -ge 10 ] || fail "the capture holds only $packets packets"
for s in $SECRETS; do
	if grep -a -q -F -- "$s" "$CAPF"; then
		fail "'$s' appears in clear in the capture"
	fi
done
echo "TLS capture: $packets packets, $(wc -c <"$CAPF") bytes, no plaintext"

# Control: the same words over plain ZeroMQ are visible in a capture.
capture "$TALLY_TMP/plain.pcap"
"$P/chan_raw" "$EP" plain "result Seoul-National-University-Hospital count=4242"
stop_capture
grep -a -q -F "Seoul-National-University-Hospital" "$TALLY_TMP/plain.pcap" ||
	fail "control capture does not show the plaintext: the check is broken"
echo ok
