#!/bin/sh
# Generator throughput: `tally gen` writing one lead hospital of
# BENCH_PATIENTS patients (default 1000000), against a baseline measured
# in the same run: sqlite3's own bulk copy of exactly those rows into a
# fresh file (INSERT INTO t SELECT * FROM gen.t with the same pragmas,
# then the same indexes and ANALYZE). The ratio says what generating and
# binding every row costs over SQLite writing it. Also prints what a
# 1M-patient hospital comes to (rows per table, file size), scaled from
# this run when BENCH_PATIENTS is not 1000000.
#
#   BENCH_PATIENTS  patients at the hospital (default 1000000)
#   BENCH_SEED      seed (default 1)
#   BENCH_TMP       scratch folder parent (default /tmp); needs ~2x the
#                   DB size free (about 13 GB at 1M patients)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
N=${BENCH_PATIENTS:-1000000}
SEED=${BENCH_SEED:-1}
T=$top/bin/tally
[ -x "$T" ] || { echo "gen: $T not built" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "gen: sqlite3 CLI missing" >&2; exit 1; }
W=$(mktemp -d "${BENCH_TMP:-/tmp}/tally-bench-gen.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM

now() { date +%s.%N; }
secs() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }
# cpu CMD...: runs CMD (stdin from $CPU_IN), prints its user+sys seconds
# (POSIX `times`: the second line is the children's).
cpu() {
	sh -c 'in=$1; shift; "$@" <"$in" >/dev/null || exit 1; times' \
	    sh "$CPU_IN" "$@" |
	    tail -1 |
	    awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m");
		t += a[1] * 60 + a[2] } printf "%.2f", t }'
}
CPU_IN=/dev/null

# 1. tally gen, one thread, one hospital.
t0=$(now)
gen_cpu=$(cpu "$T" gen --out "$W/gen" \
    --network "$top/deploy/network/hospitals.csv" \
    --only kumc --patients "$N" --seed "$SEED" -j 1 -q)
t1=$(now)
[ -n "$gen_cpu" ] || { echo "gen: tally gen failed" >&2; exit 1; }
DB=$W/gen/kumc.db
gen_s=$(secs "$t0" "$t1")
counts=$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM person),
    (SELECT count(*) FROM visit), (SELECT count(*) FROM diagnosis),
    (SELECT count(*) FROM lab), (SELECT count(*) FROM drug),
    (SELECT count(*) FROM procedure)" | tr '|' ' ')
rows=$(echo "$counts" | awk '{ print $1 + $2 + $3 + $4 + $5 + $6 }')
bytes=$(stat -c %s "$DB")

# 2. Baseline: sqlite3 copies the same rows into a fresh DB of the same
# schema, then builds the same indexes.
sqlite3 "$DB" .schema | grep -v '^CREATE INDEX' | grep -v sqlite_stat \
    >"$W/tables.sql"
sqlite3 "$DB" .schema | grep '^CREATE INDEX' >"$W/indexes.sql"
{
	echo "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
	echo "PRAGMA cache_size = -65536;"
	cat "$W/tables.sql"
	echo "ATTACH '$DB' AS g; BEGIN;"
	for t in meta person visit diagnosis lab drug procedure; do
		echo "INSERT INTO main.$t SELECT * FROM g.$t;"
	done
	cat "$W/indexes.sql"
	echo "ANALYZE main; COMMIT;"
} >"$W/copy.sql"
t0=$(now)
CPU_IN=$W/copy.sql
copy_cpu=$(cpu sqlite3 "$W/copy.db")
[ -n "$copy_cpu" ] || { echo "gen: sqlite3 copy failed" >&2; exit 1; }
sync "$W/copy.db" 2>/dev/null || sync
t1=$(now)
copy_s=$(secs "$t0" "$t1")
copy_rows=$(sqlite3 "$W/copy.db" "SELECT (SELECT count(*) FROM person) +
    (SELECT count(*) FROM visit) + (SELECT count(*) FROM diagnosis) +
    (SELECT count(*) FROM lab) + (SELECT count(*) FROM drug) +
    (SELECT count(*) FROM procedure)")
[ "$copy_rows" = "$rows" ] || { echo "gen: copy has $copy_rows rows, not $rows" >&2; exit 1; }

echo "$N $rows $gen_s $copy_s $bytes $gen_cpu $copy_cpu $counts" | awk '{
	n = $1; rows = $2; g = $3; c = $4; b = $5; gc = $6; cc = $7
	k = 1000000 / n
	printf "tally gen, 1 hospital, %d patients, 1 thread: %d rows in %.2f s (%.2f s CPU) = %.0f rows/s\n", n, rows, g, gc, rows / g
	printf "baseline, sqlite3 bulk copy of the same rows + indexes: %.2f s (%.2f s CPU) = %.0f rows/s\n", c, cc, rows / c
	printf "ratio: tally gen takes %.2fx the time (%.2fx the CPU) of sqlite3 bulk-copying its output\n", g / c, gc / cc
	printf "per 1M patients%s: person %d, visit %d, diagnosis %d, lab %d, drug %d, procedure %d; %d rows, %.1f GB\n", \
	    (n == 1000000 ? "" : sprintf(" (scaled from %d)", n)), \
	    $8 * k, $9 * k, $10 * k, $11 * k, $12 * k, $13 * k, rows * k, b * k / 1e9
}'
