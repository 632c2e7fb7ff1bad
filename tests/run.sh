#!/bin/sh
# Runs every unit test binary and every integration script once, against
# one build variant, and records one line per test case in --out:
#   PASS|FAIL|SKIP <variant> <suite> <detail>
# A cmocka binary counts as its number of test cases; a binary that dies
# before reporting counts as one failure. An integration script is one
# case: exit 0 pass, 77 skip (its last stderr line says why), else fail.
set -u

name=rel bin=bin tests=build/rel/tests out=build/rel/test-results
while [ $# -gt 0 ]; do
	case "$1" in
	--name) name=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
: >"$out"
logdir=$(dirname "$out")/test-logs
rm -rf "$logdir"; mkdir -p "$logdir"

export TALLY_BIN="$top/$bin"
export TALLY_TOP="$top"
export TALLY_PROGS="$top/$(dirname "$tests")/progs"
export TALLY_SHARED="${TALLY_SHARED:-$top/../shared}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

record() { echo "$1 $name $2 $3" >>"$out"; }

for t in "$tests"/test_*; do
	[ -x "$t" ] || continue
	suite=$(basename "$t")
	log="$logdir/$suite.log"
	( cd "$top" && "$t" ) >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1   # died (sanitizer, crash) before cmocka's summary
	fi
	i=0; while [ $i -lt "$p" ]; do record PASS "$suite" "#$i"; i=$((i+1)); done
	i=0; while [ $i -lt "$f" ]; do record FAIL "$suite" "see $log"; i=$((i+1)); done
	i=0; while [ $i -lt "$s" ]; do record SKIP "$suite" "#$i"; i=$((i+1)); done
	if [ "$f" -gt 0 ]; then
		echo "FAIL [$name] $suite ($f failed; log $log)"
		grep -E '^\[  (FAILED|ERROR)|ERROR: |runtime error|Sanitizer' "$log" | head -20
	else
		[ "$s" -gt 0 ] && s=", $s skipped" || s=""
		echo "ok   [$name] $suite ($p passed$s)"
	fi
done

for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	suite=$(basename "$t" .sh)
	log="$logdir/$suite.log"
	start=$(date +%s)
	TALLY_TMP=$(mktemp -d /tmp/tally-test.XXXXXX)
	export TALLY_TMP
	( cd "$top" && bash "$t" ) >"$log" 2>&1
	rc=$?
	rm -rf "$TALLY_TMP"
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) record PASS "$suite" ""; echo "ok   [$name] $suite (${secs}s)" ;;
	77) why=$(tail -1 "$log"); record SKIP "$suite" "$why"
	    echo "SKIP [$name] $suite: $why" ;;
	*) record FAIL "$suite" "see $log"
	   echo "FAIL [$name] $suite (exit $rc; log $log)"; tail -15 "$log" ;;
	esac
done
exit 0
