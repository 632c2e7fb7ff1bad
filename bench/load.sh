#!/bin/sh
# load.sh — `tally load --csv` against the sqlite3 CLI loading the same
# files into the same schema, both in this run, on this machine.
#
#   BENCH_PATIENTS  patients in the generated hospital (default 1000000)
#   BENCH_DIR       scratch folder (default bench/out/load; removed after
#                   unless BENCH_KEEP=1)
#
# The hospital comes from `tally gen --only snuh --seed 1`, exported table
# by table with the sqlite3 CLI; where this build has no working `tally
# gen` the same six CSV files are made by the awk generator below. Then:
#   (a) tally load --db tally.db --csv DIR   (full validation on)
#   (b) sqlite3: the DDL of (a)'s DB (.schema), `.import --csv --skip 1`
#       of each file in one transaction, the same CREATE INDEX statements
#       and ANALYZE, with the same pragmas tally uses for its temp file.
# Prints seconds, rows/s and the ratio tally/sqlite3 (goal: <= 1.0).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
N=${BENCH_PATIENTS:-1000000}
W=${BENCH_DIR:-bench/out/load}
T=bin/tally
command -v sqlite3 >/dev/null || { echo "load: no sqlite3 CLI; skipped"; exit 0; }
[ -x "$T" ] || { echo "load: no $T; run make first"; exit 1; }
rm -rf "$W"
mkdir -p "$W/csv"
trap '[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"' EXIT

now() { date +%s.%N; }
# secs START END
secs() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }

# --- the hospital ----------------------------------------------------------
# Columns in Baseline order: sqlite3's .import fills a table by position.
COLS_person="person_id, sex, birth_year, death_date, link_key"
COLS_visit="visit_id, person_id, visit_type, start_date, end_date"
COLS_diagnosis="person_id, visit_id, diag_date, code, code_system, is_primary"
COLS_lab="person_id, visit_id, lab_date, code, code_system, value_num, value_text, unit"
COLS_drug="person_id, visit_id, start_date, end_date, code, code_system, days_supply"
COLS_procedure="person_id, visit_id, proc_date, code, code_system"
TABLES="person visit diagnosis lab drug procedure"

t0=$(now)
if "$T" gen --help >/dev/null 2>&1; then
	how="tally gen"
	"$T" gen --out "$W/gen" --patients "$N" --only snuh --seed 1 >/dev/null
	for t in $TABLES; do
		eval cols=\$COLS_$t
		sqlite3 -header -csv "$W/gen/snuh.db" \
		    "SELECT $cols FROM $t" >"$W/csv/$t.csv"
	done
	rm -rf "$W/gen"
else
	how="awk (no working tally gen in this build)"
	awk -v N="$N" -v D="$W/csv" '
	function day(y0, y1) {
		return sprintf("%04d-%02d-%02d", y0 + int(rand() * (y1 - y0 + 1)),
		    1 + int(rand() * 12), 1 + int(rand() * 28))
	}
	function pick(s,   a, n) { n = split(s, a, " "); return a[1 + int(rand() * n)] }
	BEGIN {
		srand(1)
		P = D "/person.csv"; V = D "/visit.csv"; G = D "/diagnosis.csv"
		L = D "/lab.csv"; R = D "/drug.csv"; X = D "/procedure.csv"
		print "person_id,sex,birth_year,death_date,link_key" > P
		print "visit_id,person_id,visit_type,start_date,end_date" > V
		print "person_id,visit_id,diag_date,code,code_system,is_primary" > G
		print "person_id,visit_id,lab_date,code,code_system,value_num,value_text,unit" > L
		print "person_id,visit_id,start_date,end_date,code,code_system,days_supply" > R
		print "person_id,visit_id,proc_date,code,code_system" > X
		dx = "I48.91 I10 E11.9 E78.5 K50.9 K51.9 C18.7 C34.1 G47.33 J45.9 N18.3 I25.1"
		lb = "4548-4 2345-7 2160-0 718-7 1742-6 2093-3 6690-2 777-3"
		dr = "B01AA03 B01AF01 A10BA02 C09AA05 C10AA05 L04AB02 N02BE01 C07AB07"
		pr = "M5850 M6551 E6541 HA341 O1421"
		vid = 0
		for (p = 1; p <= N; p++) {
			by = 1930 + int(rand() * 80)
			dd = rand() < 0.03 ? day(2015, 2024) : ""
			printf "%d,%s,%d,%s,\n", p, rand() < 0.5 ? "F" : "M", by, dd > P
			nv = 2 + int(rand() * 17)
			for (v = 0; v < nv; v++) {
				vid++
				s = day(2010, 2024)
				printf "%d,%d,%s,%s,%s\n", vid, p, pick("outpatient outpatient outpatient inpatient emergency"), s, s > V
				if (rand() < 0.8)
					printf "%d,%d,%s,%s,KCD8,%d\n", p, vid, s, pick(dx), (v == 0 ? 1 : 0) > G
				if (rand() < 0.5)
					printf "%d,%d,%s,%s,LOINC,%.1f,,%s\n", p, vid, s, pick(lb), rand() * 200, "mg/dL" > L
				if (rand() < 0.5)
					printf "%d,%d,%s,%s,%s,ATC,%d\n", p, vid, s, s, pick(dr), 30 > R
				if (rand() < 0.2)
					printf "%d,%d,%s,%s,EDI\n", p, vid, s, pick(pr) > X
			}
		}
	}'
fi
rows=0
for t in $TABLES; do
	n=$(($(wc -l <"$W/csv/$t.csv") - 1))
	rows=$((rows + n))
done
t1=$(now)
echo "hospital: $N patients, $rows rows in 6 CSV files ($(du -sh "$W/csv" | cut -f1)), made by $how in $(secs "$t0" "$t1") s"

# --- (a) tally load ---------------------------------------------------------
sync	# neither side pays for the other's (or the generator's) writeback
t0=$(now)
"$T" load --db "$W/tally.db" --csv "$W/csv" --site snuh >"$W/tally.out" 2>"$W/tally.err" || {
	echo "load: tally load failed:"; tail -5 "$W/tally.err"; exit 1; }
t1=$(now)
ta=$(secs "$t0" "$t1")
loaded=$(awk '$1 == "total" { print $3 }' "$W/tally.out")
[ "$loaded" = "$rows" ] || { echo "load: tally loaded $loaded of $rows rows"; exit 1; }

# --- (b) sqlite3 .import ----------------------------------------------------
sqlite3 "$W/tally.db" .schema >"$W/schema.sql"
{
	echo "PRAGMA journal_mode = OFF;"
	echo "PRAGMA synchronous = OFF;"
	echo "PRAGMA locking_mode = EXCLUSIVE;"
	echo "PRAGMA cache_size = -262144;"
	echo "PRAGMA threads = 2;"
	# The tables: every CREATE TABLE but SQLite's own statistics.
	awk '/^CREATE TABLE/ && !/sqlite_stat/, /;$/' "$W/schema.sql"
	echo "BEGIN;"
	for t in $TABLES; do
		echo ".import --csv --skip 1 $W/csv/$t.csv $t"
	done
	grep '^CREATE INDEX' "$W/schema.sql"
	echo "ANALYZE;"
	echo "COMMIT;"
} >"$W/baseline.sql"
sync
t0=$(now)
sqlite3 "$W/sqlite.db" <"$W/baseline.sql" >/dev/null
sync "$W/sqlite.db" 2>/dev/null || sync
t1=$(now)
tb=$(secs "$t0" "$t1")
n=$(sqlite3 "$W/sqlite.db" "SELECT (SELECT count(*) FROM person) + (SELECT count(*) FROM visit) + (SELECT count(*) FROM diagnosis) + (SELECT count(*) FROM lab) + (SELECT count(*) FROM drug) + (SELECT count(*) FROM procedure)")
[ "$n" = "$rows" ] || { echo "load: sqlite3 imported $n of $rows rows"; exit 1; }

echo "$ta $tb $rows" | awk '{
	printf "tally load --csv : %8.2f s  %10.0f rows/s  (validation on)\n", $1, $3 / $1
	printf "sqlite3 .import  : %8.2f s  %10.0f rows/s\n", $2, $3 / $2
	printf "ratio tally/sqlite3: %.2f (goal <= 1.0)\n", $1 / $2
}'
