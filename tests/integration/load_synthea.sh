# The Synthea27Nj OMOP CDM v5.4 export (28 persons, lower-case headers,
# datetimes "YYYY-MM-DD HH:MM:SS", a concept table with UCUM units): a
# clean load (exit 0) that accounts for every row against awk's counts,
# maps death, visit types, units and lab values, and loads the same export
# twice without duplicating a row.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/load_datasets.lib"

zip=$TALLY_SHARED/data/synthea27nj-omop54/Synthea27Nj_5.4.zip
[ -r "$zip" ] || skip "no $zip (TALLY_SHARED=$TALLY_SHARED)"
command -v unzip >/dev/null || skip "no unzip"
command -v sqlite3 >/dev/null || skip "no sqlite3 CLI"
unzip -q "$zip" -d "$TALLY_TMP/x"
dir=$TALLY_TMP/x
db=$TALLY_TMP/nj.db

rc=0
"$T" load --db "$db" --omop "$dir" >"$TALLY_TMP/out" 2>"$TALLY_TMP/err" || rc=$?
[ "$rc" = 0 ] || { cat "$TALLY_TMP/err"; fail "load exited $rc"; }
cat "$TALLY_TMP/out"
[ -s "$TALLY_TMP/err" ] && { cat "$TALLY_TMP/err"; fail "stderr not empty"; }
check_omop_load "$dir" "$db" "$TALLY_TMP/out"
readme_counts "$TALLY_TMP/out" person=28 visit_occurrence=1791 \
    condition_occurrence=470 drug_exposure=883 measurement=10040 \
    procedure_occurrence=1649 observation_period=28 death=3 concept=2294

# Death dates: one per DEATH row.
want=$(($(csv_records "$(omop_file "$dir" death)")))
got=$(sqlite3 "$db" "SELECT count(*) FROM person WHERE death_date IS NOT NULL")
[ "$got" = "$want" ] && [ "$want" = 3 ] || fail "$got death dates, DEATH has $want"
sqlite3 "$db" "SELECT death_date FROM person WHERE person_id = 7" | grep -qx 2019-05-28 ||
    fail "person 7's death date"

# Visit types from visit_concept_id, counted in the file.
f=$(omop_file "$dir" visit_occurrence)
for kv in 9202=outpatient 9201=inpatient 9203=emergency; do
	want=$(column_values "$f" visit_concept_id | grep -c "^${kv%=*}\$")
	got=$(sqlite3 "$db" "SELECT count(*) FROM visit WHERE visit_type = '${kv#*=}'")
	[ "$got" = "$want" ] || fail "${kv#*=}: $got visits, the file has $want"
done

# Lab values: every non-empty value_as_number, and units from UCUM.
f=$(omop_file "$dir" measurement)
want=$(column_values "$f" value_as_number | grep -c .)
got=$(sqlite3 "$db" "SELECT count(value_num) FROM lab")
[ "$got" = "$want" ] || fail "$got lab values, the file has $want"
got=$(sqlite3 "$db" "SELECT value_num || ' ' || unit FROM lab WHERE person_id = 1 AND code = '29463-7' AND lab_date = '2013-05-17'")
[ "$got" = "48.1 kg" ] || fail "body weight of person 1 is '$got'"

# The same export again: a snapshot, not an append.
before=$(sqlite3 "$db" "SELECT (SELECT count(*) FROM person) || ' ' || (SELECT count(*) FROM lab) || ' ' || (SELECT count(*) FROM diagnosis)")
"$T" load --db "$db" --omop "$dir" >/dev/null 2>&1 || fail "second load failed"
after=$(sqlite3 "$db" "SELECT (SELECT count(*) FROM person) || ' ' || (SELECT count(*) FROM lab) || ' ' || (SELECT count(*) FROM diagnosis)")
[ "$before" = "$after" ] || fail "second load changed counts: $before -> $after"
[ "$after" = "28 10040 470" ] || fail "counts $after"
sqlite3 "$db" "SELECT value FROM meta WHERE key = 'hospital_id'" | grep -qx nj || fail "hospital_id"
echo ok
