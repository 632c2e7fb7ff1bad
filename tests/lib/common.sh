# common.sh — sourced by integration tests: paths, assertions, cleanup.
# TALLY_BIN (programs), TALLY_TMP (scratch, removed afterwards) and
# TALLY_SHARED come from tests/run.sh; defaults allow running a test alone.
set -eu
TALLY_TOP=${TALLY_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TALLY_BIN=${TALLY_BIN:-$TALLY_TOP/bin}
TALLY_SHARED=${TALLY_SHARED:-$TALLY_TOP/../shared}
if [ -z "${TALLY_TMP:-}" ]; then
	TALLY_TMP=$(mktemp -d /tmp/tally-test.XXXXXX)
	trap 'rm -rf "$TALLY_TMP"' EXIT
fi
T=$TALLY_BIN/tally
TALLY_PROGS=${TALLY_PROGS:-$TALLY_TOP/build/rel/progs}

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*" >&2; exit 77; }
# expect_exit CODE CMD...: runs CMD, fails unless it exits with CODE.
expect_exit() {
	want=$1; shift
	set +e; "$@"; got=$?; set -e
	[ "$got" = "$want" ] || fail "'$*' exited $got, expected $want"
}
# free_port: prints a TCP port that nothing on 127.0.0.1 listens on,
# chosen below the kernel's ephemeral range so that no outgoing
# connection (of this test or anything else on the machine) can take it
# between now and the moment a daemon binds it.
free_port() {
	python3 -c '
import random, socket
lo, hi = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
r = (10000, lo - 1) if lo > 12000 else (hi + 1, 65000)
for _ in range(500):
    p = random.randint(*r)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    raise SystemExit("free_port: no free port found")
'
}
# expect_grep PATTERN FILE
expect_grep() { grep -q -- "$1" "$2" || { cat "$2" >&2; fail "no '$1' in $2"; }; }
