# http_serve.bash — sourced by the http_*.sh tests (after common.sh):
# starts tests/progs/status_serve over the 43-site network file and
# offers `http_get`. Not a test itself (run.sh runs *.sh only).
#
#   serve_start ARGS...   starts status_serve 127.0.0.1:0 ARGS; sets
#                         SERVE_PID and PORT; stopped again on exit
#   serve_stop            SIGTERM, and fails unless it exits 0 (a
#                         sanitizer report makes the exit non-zero)
#   http_get METHOD PATH OUT   writes OUT.h (headers), OUT.b (body),
#                         prints the status code. curl when installed,
#                         else bash's /dev/tcp (TALLY_HTTP_CLIENT=tcp
#                         forces that; HEAD always uses it, to see that
#                         no body follows)
NETWORK=$TALLY_TOP/deploy/network/hospitals.csv
SERVE=$TALLY_PROGS/status_serve
[ -x "$SERVE" ] || fail "$SERVE is not built (make unit)"
SERVE_PID=

serve_start() {
	"$SERVE" "$NETWORK" 127.0.0.1:0 "$@" >"$TALLY_TMP/serve.out" \
	    2>"$TALLY_TMP/serve.err" &
	SERVE_PID=$!
	trap 'serve_kill' EXIT
	for _ in $(seq 100); do
		# The background job may not have created the file yet.
		PORT=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' \
		    "$TALLY_TMP/serve.out" 2>/dev/null) || PORT=
		[ -n "$PORT" ] && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TALLY_TMP/serve.err" >&2
	fail "status_serve did not start"
}

serve_kill() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null
	rm -rf "$TALLY_TMP"
}

serve_stop() {
	kill -TERM "$SERVE_PID"
	set +e; wait "$SERVE_PID"; rc=$?; set -e
	SERVE_PID=
	if [ "$rc" != 0 ]; then
		cat "$TALLY_TMP/serve.err" >&2
		fail "status_serve exited $rc"
	fi
}

http_get() {
	m=$1 path=$2 out=$3
	if command -v curl >/dev/null && [ "${TALLY_HTTP_CLIENT:-}" != tcp ] &&
	    [ "$m" != HEAD ]; then
		rm -f "$out.b"
		curl -s --max-time 10 -X "$m" -D "$out.h" -o "$out.b" \
		    -w '%{http_code}' "http://127.0.0.1:$PORT$path"
		[ -f "$out.b" ] || : >"$out.b"
		return 0
	fi
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	printf '%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' \
	    "$m" "$path" >&3
	timeout 10 cat <&3 >"$out.raw"
	exec 3<&-
	sed -n '1,/^\r$/p' "$out.raw" >"$out.h"
	sed '1,/^\r$/d' "$out.raw" >"$out.b"
	sed -n '1s/^HTTP\/1\.[01] \([0-9]*\) .*/\1/p' "$out.h"
}
