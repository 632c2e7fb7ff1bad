# The Eunomia GiBleed OMOP CDM v5.3 export (2,694 persons, datetimes with a
# time part, 2,649 observation periods whose person is missing): every
# person, visit, condition, drug, measurement and procedure row is loaded
# or rejected with a reason, against counts taken from the files by awk.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/load_datasets.lib"

zip=$TALLY_SHARED/data/eunomia-gibleed/GiBleed_csv.zip
[ -r "$zip" ] || skip "no $zip (TALLY_SHARED=$TALLY_SHARED)"
command -v unzip >/dev/null || skip "no unzip"
command -v sqlite3 >/dev/null || skip "no sqlite3 CLI"
unzip -q "$zip" -d "$TALLY_TMP/x"
dir=$TALLY_TMP/x/GiBleed
db=$TALLY_TMP/gibleed.db

# Observation periods of absent persons are rejected: exit 3.
expect_exit 3 "$T" load --db "$db" --omop "$dir" --snapshot 2019-07-03 \
    >"$TALLY_TMP/out" 2>"$TALLY_TMP/err"
cat "$TALLY_TMP/out"
check_omop_load "$dir" "$db" "$TALLY_TMP/out"
# The same numbers as the dataset's README.txt.
readme_counts "$TALLY_TMP/out" person=2694 visit_occurrence=1037 \
    condition_occurrence=65332 drug_exposure=67707 measurement=44053 \
    procedure_occurrence=37409 observation_period=5343 death=0

# The README's known quirk, counted here from the files: 2,649 periods.
set -- $(summary_counts "$TALLY_TMP/out" observation_period)
[ "$3" = 2649 ] || fail "expected the 2649 orphan observation periods, got $3"
# Each is on stderr as FILE:LINE: reason, and in the rejects file.
n=$(grep -c '^.*/OBSERVATION_PERIOD.csv:[0-9]*: person_id [0-9]* has no person row$' "$TALLY_TMP/err")
[ "$n" = 2649 ] || fail "stderr has $n observation_period rejects"
head -2 "$TALLY_TMP/err"
expect_grep '/OBSERVATION_PERIOD.csv",3,"person_id 13 has no person row"' "$db.rejects.csv"

# Sex from gender_concept_id, checked against the file.
f=$(omop_file "$dir" person)
want=$(column_values "$f" gender_concept_id | grep -c '^8532$')
got=$(sqlite3 "$db" "SELECT count(*) FROM person WHERE sex = 'F'")
[ "$got" = "$want" ] || fail "$got women, the file has $want"
[ "$want" = 1373 ] || fail "README says 1373 women, the file $want"

# Gastrointestinal hemorrhage (concept 192671): the concept table's code,
# the same persons as in the file (README: 479).
code=$(awk "$AWK_CSV"'
NR == 1 { i = column("concept_id"); v = column("vocabulary_id"); c = column("concept_code"); next }
{ csvsplit($0, a); if (a[i] == 192671) print a[v] ":" a[c] }' "$(omop_file "$dir" concept)")
[ "$code" = "SNOMED:74474003" ] || fail "concept 192671 is $code"
want=$(awk "$AWK_CSV"'
NR == 1 { p = column("person_id"); c = column("condition_concept_id"); next }
{ csvsplit($0, a); if (a[c] == 192671) print a[p] }' \
    "$(omop_file "$dir" condition_occurrence)" | sort -u | wc -l)
got=$(sqlite3 "$db" "SELECT count(DISTINCT person_id) FROM diagnosis WHERE code_system = 'SNOMED' AND code = '74474003'")
[ "$got" = "$want" ] || fail "$got persons with GI bleeding, the file has $want"
[ "$want" = 479 ] || fail "README says 479, the file $want"

# Dates with a time part arrive as days.
n=$(sqlite3 "$db" "SELECT count(*) FROM drug WHERE length(start_date) != 10 OR start_date NOT LIKE '____-__-__'")
[ "$n" = 0 ] || fail "$n drug start dates are not YYYY-MM-DD"
sqlite3 "$db" "SELECT value FROM meta WHERE key = 'snapshot_date'" | grep -qx 2019-07-03 ||
    fail "snapshot_date not in meta"
echo ok
