# tally load as an operator runs it: usage errors (2), file errors (1),
# a clean load (0), rejected rows (3) reported as FILE:LINE: reason on
# stderr and in DB.rejects.csv, --strict leaving the previous DB in place,
# and the same export loaded twice without a duplicated row.
. "$(dirname "$0")/../lib/common.sh"
command -v sqlite3 >/dev/null || skip "no sqlite3 CLI"

d=$TALLY_TMP/export
db=$TALLY_TMP/snuh.db
mkdir -p "$d"
cat >"$d/person.csv" <<'CSV'
person_id,sex,birth_year,death_date
1,M,1950,
2,F,1960,2020-05-01
3,U,1970,
CSV
cat >"$d/visit.csv" <<'CSV'
visit_id,person_id,visit_type,start_date,end_date
10,1,outpatient,2020-01-01,2020-01-01
11,2,inpatient,2019-03-01,2019-03-09
CSV
cat >"$d/diagnosis.csv" <<'CSV'
person_id,visit_id,diag_date,code,code_system
1,10,2020-01-01,I48.91,KCD8
2,11,2019-03-02,E11.9,KCD8
CSV

# Usage.
"$T" load --help >"$TALLY_TMP/out"
expect_grep "usage: tally load --db FILE (--csv DIR | --omop DIR) \[--strict\]" "$TALLY_TMP/out"
expect_exit 2 "$T" load 2>/dev/null
expect_exit 2 "$T" load --csv "$d" 2>"$TALLY_TMP/err"
expect_grep "db FILE is required" "$TALLY_TMP/err"
expect_exit 2 "$T" load --db "$db" 2>/dev/null
expect_exit 2 "$T" load --db "$db" --csv "$d" --omop "$d" 2>/dev/null
expect_exit 2 "$T" load --db "$db" --csv "$d" extra 2>/dev/null
expect_exit 2 "$T" load --db "$db" --csv "$d" --bogus 2>/dev/null

# Errors: exit 1, the reason names the input, nothing is written.
expect_exit 1 "$T" load --db "$db" --csv "$TALLY_TMP/nowhere" 2>"$TALLY_TMP/err"
expect_grep "tally load: $TALLY_TMP/nowhere: No such file or directory" "$TALLY_TMP/err"
expect_exit 1 "$T" load --db "$db" --csv "$d" --snapshot 2024-02-30 2>"$TALLY_TMP/err"
expect_grep "snapshot '2024-02-30' is not a date" "$TALLY_TMP/err"
[ ! -e "$db" ] || fail "an error left $db behind"

# A clean load: exit 0, a summary, meta.
"$T" load --db "$db" --csv "$d" --snapshot 2024-06-30 >"$TALLY_TMP/out" 2>"$TALLY_TMP/err" ||
    fail "clean load failed: $(cat "$TALLY_TMP/err")"
expect_grep "^person  *person.csv  *3  *3  *0" "$TALLY_TMP/out"
expect_grep "^total  *7  *7  *0" "$TALLY_TMP/out"
[ ! -s "$TALLY_TMP/err" ] || fail "stderr not quiet: $(cat "$TALLY_TMP/err")"
[ "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'hospital_id'")" = snuh ] ||
    fail "hospital_id is not the file name"
[ "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'snapshot_date'")" = 2024-06-30 ] ||
    fail "snapshot_date"
[ "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'source'")" = csv ] || fail "source"

# On a terminal stderr shows progress (quiet otherwise, as above).
if command -v script >/dev/null; then
	script -qec "'$T' load --db '$db' --csv '$d' --snapshot 2024-06-30" /dev/null \
	    >"$TALLY_TMP/tty" || fail "load on a terminal failed"
	expect_grep "tally load: building indexes" "$TALLY_TMP/tty"
fi

# Twice: a snapshot, not an append.
"$T" load --db "$db" --csv "$d" --site kims >/dev/null
[ "$(sqlite3 "$db" "SELECT count(*) FROM person")" = 3 ] || fail "persons duplicated"
[ "$(sqlite3 "$db" "SELECT count(*) FROM diagnosis")" = 2 ] || fail "diagnoses duplicated"
[ "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'hospital_id'")" = kims ] || fail "--site"

# Rejected rows: exit 3, FILE:LINE: reason, the good rows loaded.
cat >>"$d/diagnosis.csv" <<'CSV'
3,,2021-02-30,I10,KCD8
9,,2021-01-01,I10,KCD8
CSV
expect_exit 3 "$T" load --db "$db" --csv "$d" >"$TALLY_TMP/out" 2>"$TALLY_TMP/err"
cat "$TALLY_TMP/err"
expect_grep "^$d/diagnosis.csv:4: diag_date '2021-02-30' is not a date (YYYY-MM-DD)\$" "$TALLY_TMP/err"
expect_grep "^$d/diagnosis.csv:5: person_id 9 has no person row\$" "$TALLY_TMP/err"
[ "$(wc -l <"$TALLY_TMP/err")" = 2 ] || fail "stderr has more than the two rejects"
expect_grep "^diagnosis  *diagnosis.csv  *4  *2  *2" "$TALLY_TMP/out"
expect_grep "rejected rows in $db.rejects.csv" "$TALLY_TMP/out"
head -1 "$db.rejects.csv" | grep -qx "file,line,reason" || fail "rejects header"
expect_grep "^\"$d/diagnosis.csv\",5,\"person_id 9 has no person row\"\$" "$db.rejects.csv"
[ "$(sqlite3 "$db" "SELECT count(*) FROM diagnosis")" = 2 ] || fail "good rows not loaded"

# --strict: exit 3 too, and the previous DB stays.
cat >>"$d/person.csv" <<'CSV'
4,F,1980,
CSV
expect_exit 3 "$T" load --db "$db" --csv "$d" --strict >"$TALLY_TMP/out" 2>/dev/null
expect_grep "NOT replaced: --strict and 2 rows rejected" "$TALLY_TMP/out"
[ "$(sqlite3 "$db" "SELECT count(*) FROM person")" = 3 ] || fail "--strict committed"
[ ! -e "$db.loading" ] || fail "--strict left $db.loading"

# A missing required column: exit 1, names the file and the column, and
# the previous DB is untouched.
printf 'person_id,birth_year\n1,1950\n' >"$d/person.csv"
expect_exit 1 "$T" load --db "$db" --csv "$d" 2>"$TALLY_TMP/err"
expect_grep "tally load: $d/person.csv: no column sex in the header" "$TALLY_TMP/err"
[ "$(sqlite3 "$db" "SELECT count(*) FROM person")" = 3 ] || fail "error changed the DB"

# An unreadable file (here a folder where person.csv should be): exit 1.
mkdir -p "$TALLY_TMP/odd/person.csv"
expect_exit 1 "$T" load --db "$db" --csv "$TALLY_TMP/odd/" 2>"$TALLY_TMP/err"
expect_grep "tally load: $TALLY_TMP/odd/person.csv: read: Is a directory" "$TALLY_TMP/err"
[ "$(sqlite3 "$db" "SELECT count(*) FROM person")" = 3 ] || fail "error changed the DB"

# Something that is not a Baseline DB is never replaced.
echo "precious" >"$TALLY_TMP/notes.db"
expect_exit 1 "$T" load --db "$TALLY_TMP/notes.db" --csv "$d" 2>"$TALLY_TMP/err"
expect_grep "refusing to replace it" "$TALLY_TMP/err"
grep -qx precious "$TALLY_TMP/notes.db" || fail "notes.db was touched"
echo ok
