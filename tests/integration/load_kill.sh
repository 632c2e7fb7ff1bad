# A load killed with SIGKILL half-way leaves the previous DB intact: the
# new one is built in DB.loading and only renamed over DB when complete.
# person.csv is a FIFO here, so the loader is provably mid-file (it has
# consumed rows and waits for more) when it is killed. A second load
# while the first runs is refused; the next load after the kill works.
. "$(dirname "$0")/../lib/common.sh"
command -v sqlite3 >/dev/null || skip "no sqlite3 CLI"
command -v mkfifo >/dev/null || skip "no mkfifo"

d1=$TALLY_TMP/old d2=$TALLY_TMP/new db=$TALLY_TMP/site.db
mkdir -p "$d1" "$d2"
printf 'person_id,sex,birth_year\n1,M,1950\n2,F,1960\n3,U,1970\n' >"$d1/person.csv"
"$T" load --db "$db" --csv "$d1" --snapshot 2024-01-01 >/dev/null || fail "first load"
sum_before=$(cksum <"$db")

mkfifo "$d2/person.csv"
"$T" load --db "$db" --csv "$d2" --snapshot 2024-02-01 >"$TALLY_TMP/out" 2>"$TALLY_TMP/err" &
pid=$!
# Read-write, so that opening never blocks; the loader is the only reader.
exec 3<>"$d2/person.csv"
# 50,000 rows, far more than a pipe holds: when this write returns the
# loader has read and inserted most of them.
timeout 60 awk 'BEGIN { print "person_id,sex,birth_year"
	for (i = 1; i <= 50000; i++) printf "%d,F,1980\n", i }' >&3 ||
    { kill -9 "$pid"; fail "the loader did not read person.csv"; }
i=0
while [ ! -s "$db.loading" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$db.loading" ] || fail "no $db.loading while loading"
kill -0 "$pid" || fail "the loader ended before the kill"

# Meanwhile a second load into the same DB is refused.
expect_exit 1 "$T" load --db "$db" --csv "$d1" 2>"$TALLY_TMP/err2"
expect_grep "another load into this DB is running" "$TALLY_TMP/err2"

kill -9 "$pid"
set +e; wait "$pid"; rc=$?; set -e
exec 3>&-
[ "$rc" = 137 ] || fail "the loader exited $rc, not by SIGKILL"

# The previous snapshot, byte for byte, and a sound database.
[ "$(cksum <"$db")" = "$sum_before" ] || fail "$db changed"
[ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ] || fail "integrity"
[ "$(sqlite3 "$db" "SELECT count(*) FROM person")" = 3 ] || fail "persons"
[ "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'snapshot_date'")" = 2024-01-01 ] ||
    fail "snapshot_date"

# The next load replaces it and reuses the stale temp file.
rm "$d2/person.csv"
awk 'BEGIN { print "person_id,sex,birth_year"
	for (i = 1; i <= 50000; i++) printf "%d,F,1980\n", i }' >"$d2/person.csv"
"$T" load --db "$db" --csv "$d2" --snapshot 2024-02-01 >/dev/null || fail "load after the kill"
[ "$(sqlite3 "$db" "SELECT count(*) FROM person")" = 50000 ] || fail "new snapshot"
[ ! -e "$db.loading" ] || fail "$db.loading left behind"
echo ok
