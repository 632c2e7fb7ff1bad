#!/bin/sh
# smoke.sh — runs every fuzz target of build/fuzz briefly: its committed
# seed corpus (fuzz/corpus/TARGET, never written to), then RUNS mutated
# inputs. Records PASS/FAIL lines for tests/summary.sh in DIR/test-results.
#
#   fuzz/smoke.sh [DIR] [RUNS]
set -u
dir=${1:-build/fuzz} runs=${2:-2000}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$dir/test-results
: >"$out"
for src in fuzz/*.c; do
	t=$(basename "$src" .c)
	[ "$t" = seeds ] && continue
	bin=$dir/$t
	log=$dir/$t.smoke.log
	new=$(mktemp -d /tmp/fuzz-smoke.XXXXXX)
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz $t not built" >>"$out"
		echo "FAIL [fuzz] $t: not built"
		continue
	fi
	# New inputs go to a scratch folder; the seeds stay as committed.
	if "$bin" -runs="$runs" -seed=1 -max_len=8192 -timeout=10 \
	    -artifact_prefix="$dir/$t-" "$new" "fuzz/corpus/$t" >"$log" 2>&1; then
		execs=$(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$log" | tail -1)
		echo "PASS fuzz $t ${execs:-?} executions" >>"$out"
		echo "ok   [fuzz] $t (${execs:-?} executions)"
	else
		echo "FAIL fuzz $t see $log" >>"$out"
		echo "FAIL [fuzz] $t (log $log)"
		tail -20 "$log"
	fi
	rm -rf "$new"
done
exit 0
