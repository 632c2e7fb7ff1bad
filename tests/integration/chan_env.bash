# chan_env.bash — sourced by tests/integration/chan_*.sh after common.sh
# (not a test itself): a PKI made with `tally pki`, configuration files
# with quick timers, a test broker in the background, waiting helpers, and
# clean-up of every process on exit.

P=$TALLY_PROGS
PKI=$TALLY_TMP/pki
for p in chan_broker chan_client chan_raw chan_expired; do
	[ -x "$P/$p" ] || skip "test program $P/$p not built (make unit)"
done

# Every background process goes into PIDS; all die on exit, even stopped.
PIDS=""
CHAN_RMTMP=""
case "$(trap -p EXIT)" in *rm\ -rf*) CHAN_RMTMP=1 ;; esac
chan_cleanup() {
	kill -TERM "$LIMITER" 2>/dev/null || true
	for p in $PIDS; do
		kill -CONT "$p" 2>/dev/null || true
		kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	[ -n "$CHAN_RMTMP" ] && rm -rf "$TALLY_TMP"
	return 0
}
trap chan_cleanup EXIT
trap 'fail "killed (time limit or signal)"' TERM INT

# A hard limit on the whole test, whatever hangs.
(
	sleep "${CHAN_TEST_LIMIT:-100}" &
	s=$!
	trap 'kill $s 2>/dev/null; exit 0' TERM
	wait $s && kill -TERM $$
) >/dev/null 2>&1 &
LIMITER=$!

now_ms() { date +%s%3N; }

# wait_for PATTERN FILE SECONDS: until grep -E finds PATTERN in FILE.
wait_for() {
	local end=$(( $(now_ms) + $3 * 1000 ))
	while ! grep -qE -- "$1" "$2" 2>/dev/null; do
		[ "$(now_ms)" -lt "$end" ] || {
			echo "--- $2:" >&2; cat "$2" >&2 2>/dev/null
			fail "no '$1' in $2 after $3 s"
		}
		sleep 0.05
	done
}

pki_init() {
	"$T" pki init --dir "$PKI" --consortium test >/dev/null
	"$T" pki issue --dir "$PKI" --role broker --name broker >/dev/null
}
pki_issue() {
	"$T" pki issue --dir "$PKI" --role "$1" --name "$2" >/dev/null
}

# conf NAME [DIR] [extra lines...]: $TALLY_TMP/NAME.conf for the
# certificate NAME in DIR (default $PKI), trusting $PKI's CA.
conf() {
	local name=$1 dir=${2:-$PKI} f=$TALLY_TMP/$1.conf
	shift; [ $# -gt 0 ] && shift
	{
		echo "tls_ca = $PKI/ca.crt"
		echo "tls_crl = $PKI/crl.pem"
		echo "tls_cert = $dir/$name.crt"
		echo "tls_key = $dir/$name.key"
		echo "chan_heartbeat_ms = 200"
		echo "chan_heartbeat_timeout_ms = 1000"
		echo "chan_handshake_timeout_ms = 2000"
		echo "chan_reconnect_ms = 100"
		echo "chan_reconnect_max_ms = 500"
		for l in "$@"; do echo "$l"; done
	} >"$f"
	echo "$f"
}

# start_broker CONF [args]: the test broker, endpoint in $EP (file $EPF),
# output in $TALLY_TMP/broker.out and broker.err, pid in $BROKER.
EPF=$TALLY_TMP/broker.ep
start_broker() {
	local c=$1
	shift
	rm -f "$EPF"
	"$P/chan_broker" -v -c "$c" -e "$EPF" "$@" \
	    >>"$TALLY_TMP/broker.out" 2>>"$TALLY_TMP/broker.err" &
	BROKER=$!
	PIDS="$PIDS $BROKER"
	local end=$(( $(now_ms) + 10000 ))
	while [ ! -s "$EPF" ]; do
		kill -0 "$BROKER" 2>/dev/null || {
			cat "$TALLY_TMP/broker.err" >&2
			fail "broker did not start"
		}
		[ "$(now_ms)" -lt "$end" ] || fail "broker did not start"
		sleep 0.05
	done
	EP=$(cat "$EPF")
	PORT=${EP##*:}
}

# stop_broker: SIGTERM, and the stats line lands in broker.out.
stop_broker() {
	kill -TERM "$BROKER" 2>/dev/null || true
	wait "$BROKER" 2>/dev/null || true
}
