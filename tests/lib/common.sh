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
# expect_grep PATTERN FILE
expect_grep() { grep -q -- "$1" "$2" || { cat "$2" >&2; fail "no '$1' in $2"; }; }
