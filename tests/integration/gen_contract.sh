# Every generated DB keeps the Baseline DB contract (DESIGN.md section 3)
# and the code conventions the engine and docs/examples rely on: valid ISO
# dates, sex M/F/U, well-formed KCD8/LOINC/ATC/EDI codes, every event on a
# visit of the same person and inside its dates, one primary diagnosis
# per visit, nothing after death or outside 2010-2025.
. "$(dirname "$0")/../lib/common.sh"
NET=$TALLY_TOP/deploy/network/hospitals.csv
D=$TALLY_TMP/db

"$T" gen --out "$D" --network "$NET" --patients 150 --seed 3 -q >/dev/null ||
	fail "gen"

CHECKS="
SELECT 'person: bad sex, birth year, death date or link_key', count(*)
FROM person WHERE sex NOT IN ('M', 'F', 'U') OR sex IS NULL
  OR birth_year NOT BETWEEN 1900 AND 2025
  OR (death_date IS NOT NULL AND (date(death_date) IS NOT death_date
      OR death_date NOT BETWEEN '2010-01-01' AND '2025-12-31'))
  OR length(link_key) != 64 OR link_key GLOB '*[^0-9a-f]*';
SELECT 'person: without a visit', count(*) FROM person p
WHERE NOT EXISTS (SELECT 1 FROM visit v WHERE v.person_id = p.person_id);
SELECT 'visit: bad type or dates', count(*) FROM visit
WHERE visit_type NOT IN ('outpatient', 'inpatient', 'emergency')
  OR date(start_date) IS NOT start_date OR date(end_date) IS NOT end_date
  OR end_date < start_date OR start_date < '2010-01-01'
  OR end_date > '2025-12-31';
SELECT 'visit: no such person, before birth or after death', count(*)
FROM visit v LEFT JOIN person p USING (person_id)
WHERE p.person_id IS NULL OR CAST(substr(v.start_date, 1, 4) AS INT) < p.birth_year
  OR v.end_date > coalesce(p.death_date, '9999');
SELECT 'visit: not exactly one primary diagnosis', count(*) FROM visit v
WHERE (SELECT count(*) FROM diagnosis d WHERE d.visit_id = v.visit_id
       AND d.is_primary = 1) != 1;
SELECT 'diagnosis: not KCD8 or malformed', count(*) FROM diagnosis
WHERE code_system IS NOT 'KCD8' OR is_primary NOT IN (0, 1) OR NOT (
  code GLOB '[A-Z][0-9][0-9]' OR code GLOB '[A-Z][0-9][0-9].[0-9]'
  OR code GLOB '[A-Z][0-9][0-9].[0-9][0-9]');
SELECT 'lab: not LOINC, malformed, no value or unit', count(*) FROM lab
WHERE code_system IS NOT 'LOINC' OR NOT code GLOB '[0-9]*-[0-9]'
  OR code GLOB '*[^0-9-]*' OR value_num IS NULL OR unit IS NULL;
SELECT 'drug: not ATC, malformed, bad supply or end date', count(*) FROM drug
WHERE code_system IS NOT 'ATC'
  OR NOT code GLOB '[A-Z][0-9][0-9][A-Z][A-Z][0-9][0-9]'
  OR days_supply < 1 OR date(end_date) IS NOT end_date
  OR end_date != date(start_date, '+' || (days_supply - 1) || ' days');
SELECT 'procedure: not EDI or malformed', count(*) FROM procedure
WHERE code_system IS NOT 'EDI' OR NOT code GLOB '[A-Z][A-Z0-9][0-9][0-9]*'
  OR length(code) NOT BETWEEN 4 AND 6;
SELECT 'meta: missing keys', 7 - count(*) FROM meta WHERE key IN
  ('hospital_id', 'consortium', 'schema_version', 'snapshot_date',
   'source', 'seed', 'gen_patients') AND value IS NOT NULL AND value != '';
"
# Each event table: same person as its visit, date inside the visit.
for t in diagnosis:diag_date lab:lab_date drug:start_date procedure:proc_date; do
	tab=${t%%:*} col=${t#*:}
	CHECKS="$CHECKS
SELECT '$tab: not on a visit of the same person, or outside it', count(*)
FROM $tab e LEFT JOIN visit v USING (visit_id)
WHERE v.visit_id IS NULL OR v.person_id != e.person_id
  OR date(e.$col) IS NOT e.$col
  OR e.$col NOT BETWEEN v.start_date AND v.end_date;"
done

n=0
for db in "$D"/*.db; do
	sqlite3 -separator ': ' "$db" "$CHECKS" >"$TALLY_TMP/res" ||
		fail "$db: query failed"
	bad=$(grep -v ': 0$' "$TALLY_TMP/res" || true)
	[ -z "$bad" ] || fail "$(basename "$db"): $bad"
	id=$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'hospital_id'")
	[ "$id.db" = "$(basename "$db")" ] || fail "$db: meta hospital_id is $id"
	sqlite3 "$db" "SELECT DISTINCT 'dx:' || code FROM diagnosis
	    UNION SELECT DISTINCT 'lab:' || code FROM lab
	    UNION SELECT DISTINCT 'drug:' || code FROM drug
	    UNION SELECT DISTINCT 'proc:' || code FROM procedure" \
	    >>"$TALLY_TMP/codes"
	sqlite3 "$db" "SELECT DISTINCT code, unit FROM lab" >>"$TALLY_TMP/units"
	n=$((n + 1))
done
[ "$n" = 43 ] || fail "checked $n DBs, expected 43"

# The codes the example queries and docs name are all there somewhere.
for code in dx:I10 dx:E11.9 dx:I48.0 dx:I48.9 dx:I50.9 dx:J44.9 dx:G47.3 \
    dx:K50.9 dx:K51.9 dx:C16.9 dx:C18.7 dx:C19 dx:C20 dx:C34.1 dx:C50.9 \
    dx:N18.3 dx:I05.0 dx:H25.9 dx:H40.1 dx:H35.3 dx:H52.1 dx:J06.9 \
    lab:4548-4 lab:33914-3 lab:2160-0 lab:2345-7 lab:718-7 lab:6301-6 \
    lab:13457-7 drug:B01AA03 drug:B01AF01 drug:B01AF02 drug:B01AF03 \
    drug:A10BA02 drug:C10AA05 drug:C09CA01 drug:C08CA01 drug:L01FF01 \
    drug:L01FF02 drug:A07EC02 drug:L04AB02 drug:R03AL03 proc:FZ571 \
    proc:E7660 proc:E7611 proc:E6541 proc:HA424 proc:Q2671; do
	grep -qx "$code" "$TALLY_TMP/codes" || fail "no $code in any DB"
done
# Units as documented.
for u in "4548-4|%" "33914-3|mL/min/1.73m2" "2160-0|mg/dL" "718-7|g/dL"; do
	grep -qx "$u" "$TALLY_TMP/units" || fail "lab unit $u missing"
done
[ "$(sort -u "$TALLY_TMP/units" | cut -d'|' -f1 | uniq -d)" = "" ] ||
	fail "a lab code with more than one unit"
echo ok
