#!/bin/sh
# Query engine speed: the six documented example queries
# (docs/examples/*.json) run by the engine and, as the baseline measured
# in the same process, by the plain SQL a careful analyst would write for
# the same question (bench/engine/<name>.sql: first diagnosis per person
# with GROUP BY, one correlated EXISTS per criterion, the Baseline DB's
# own indexes), on one synthetic hospital from `tally gen`. Prints per
# query both times and their ratio, whether the answers agree cell by
# cell, the median ratio and the engine's memory (bench/engine.c).
#
#   BENCH_PATIENTS  patients at the hospital (default 1000000)
#   BENCH_SEED      seed (default 1)
#   BENCH_REPS      timed runs per query and side, median taken (default 5)
#   BENCH_DB        use this Baseline DB instead of generating one
#   BENCH_TMP       where the generated DB is kept (default /tmp); it is
#                   reused by later runs with the same size and seed
#                   (about 6.5 GB at 1M patients); BENCH_KEEP=0 removes it
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
N=${BENCH_PATIENTS:-1000000}
SEED=${BENCH_SEED:-1}
T=$top/bin/tally
B=$top/build/rel/bench/engine
[ -x "$T" ] || { echo "engine: $T not built" >&2; exit 1; }
[ -x "$B" ] || { echo "engine: $B not built (make bench-progs)" >&2; exit 1; }

if [ -n "${BENCH_DB:-}" ]; then
	db=$BENCH_DB
else
	dir=${BENCH_TMP:-/tmp}/tally-bench-engine-$N-$SEED
	db=$dir/snuh.db
	if [ ! -s "$db" ]; then
		echo "generating $N patients (seed $SEED) into $dir ..."
		rm -rf "$dir"
		"$T" gen --out "$dir" --patients "$N" --only snuh \
		    --seed "$SEED" -q
	fi
	if [ "${BENCH_KEEP:-1}" = 0 ]; then
		trap 'rm -rf "$dir"' EXIT INT TERM
	fi
fi
echo "db: $db ($(du -m "$db" | cut -f1) MB), reps: ${BENCH_REPS:-5}"
"$B" "$db" "$top/docs/examples" "$top/bench/engine" \
    af_anticoagulant t2dm_hba1c early_crc lung_ici osa_psg ibd
