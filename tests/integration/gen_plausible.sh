# Generated data are plausible enough for the questions tally is for:
# each check compares figures pooled over all 43 DBs and can fail.
. "$(dirname "$0")/../lib/common.sh"
NET=$TALLY_TOP/deploy/network/hospitals.csv
D=$TALLY_TMP/db

"$T" gen --out "$D" --network "$NET" --patients 300 --seed 8 -q >/dev/null ||
	fail "gen"

# pooled SQL: sums one row of numbers over every DB (or those given).
pooled() {
	sql=$1; shift
	[ $# -gt 0 ] || set -- "$D"/*.db
	for db in "$@"; do
		sqlite3 -nullvalue 0 -separator ' ' "$db" "$sql"
	done | awk '{ for (i = 1; i <= NF; i++) s[i] += $i; n = NF }
	    END { for (i = 1; i <= n; i++) printf "%s%s", s[i], i < n ? " " : "\n" }'
}
# check MESSAGE AWK-CONDITION VALUES...: fails unless the condition holds.
check() {
	msg=$1 cond=$2; shift 2
	echo "$*" | awk "{ if (!($cond)) exit 1 }" || fail "$msg: $*"
	echo "ok: $msg: $*"
}
GENERAL=$(ls "$D"/*.db | grep -v -e kims-eye -e hangil-eye)

# HbA1c: diabetics (E11) average much higher than others.
set -- $(pooled "SELECT
    (SELECT sum(value_num) FROM lab WHERE code = '4548-4' AND person_id IN
        (SELECT person_id FROM diagnosis WHERE code GLOB 'E11*')),
    (SELECT count(*) FROM lab WHERE code = '4548-4' AND person_id IN
        (SELECT person_id FROM diagnosis WHERE code GLOB 'E11*')),
    (SELECT sum(value_num) FROM lab WHERE code = '4548-4' AND person_id NOT IN
        (SELECT person_id FROM diagnosis WHERE code GLOB 'E11*')),
    (SELECT count(*) FROM lab WHERE code = '4548-4' AND person_id NOT IN
        (SELECT person_id FROM diagnosis WHERE code GLOB 'E11*'))")
check "HbA1c E11 mean >= others + 1.2" '$1/$2 >= $3/$4 + 1.2 && $2 > 100 && $4 > 100' "$@"

# eGFR lower with CKD (N18), INR higher on warfarin.
set -- $(pooled "SELECT
    (SELECT total(value_num) FROM lab WHERE code = '33914-3' AND person_id IN
        (SELECT person_id FROM diagnosis WHERE code GLOB 'N18*')),
    (SELECT count(*) FROM lab WHERE code = '33914-3' AND person_id IN
        (SELECT person_id FROM diagnosis WHERE code GLOB 'N18*')),
    (SELECT total(value_num) FROM lab WHERE code = '33914-3' AND person_id NOT IN
        (SELECT person_id FROM diagnosis WHERE code GLOB 'N18*')),
    (SELECT count(*) FROM lab WHERE code = '33914-3' AND person_id NOT IN
        (SELECT person_id FROM diagnosis WHERE code GLOB 'N18*'))")
check "eGFR with N18 lower by 20+" '$1/$2 + 20 <= $3/$4' "$@"
set -- $(pooled "SELECT
    (SELECT total(value_num) FROM lab WHERE code = '6301-6' AND person_id IN
        (SELECT person_id FROM drug WHERE code = 'B01AA03')),
    (SELECT count(*) FROM lab WHERE code = '6301-6' AND person_id IN
        (SELECT person_id FROM drug WHERE code = 'B01AA03')),
    (SELECT total(value_num) FROM lab WHERE code = '6301-6' AND person_id NOT IN
        (SELECT person_id FROM drug WHERE code = 'B01AA03')),
    (SELECT count(*) FROM lab WHERE code = '6301-6' AND person_id NOT IN
        (SELECT person_id FROM drug WHERE code = 'B01AA03'))")
check "INR on warfarin >= 2 and others < 1.3" '$2 > 0 && $4 > 0 && $1/$2 >= 2 && $3/$4 < 1.3' "$@"

# AF: most get an anticoagulant, most of those within 30 days.
set -- $(pooled "WITH af AS (SELECT person_id, min(diag_date) d FROM diagnosis
        WHERE code GLOB 'I48*' GROUP BY person_id)
    SELECT count(*),
      sum(EXISTS (SELECT 1 FROM drug g WHERE g.person_id = af.person_id
          AND (g.code GLOB 'B01AA*' OR g.code GLOB 'B01AF*'))),
      sum(EXISTS (SELECT 1 FROM drug g WHERE g.person_id = af.person_id
          AND (g.code GLOB 'B01AA*' OR g.code GLOB 'B01AF*')
          AND julianday(g.start_date) - julianday(af.d) BETWEEN 0 AND 30)),
      sum(EXISTS (SELECT 1 FROM procedure p WHERE p.person_id = af.person_id
          AND p.code = 'E6541'))
    FROM af")
check "AF: >=60% anticoagulated, >=50% within 30 days, most ECG" \
    '$1 >= 50 && $2 >= 0.6*$1 && $3 >= 0.5*$1 && $2 < $1 && $4 >= 0.7*$1' "$@"

# OSA: most have a sleep study within [-180, 90] days of the diagnosis.
set -- $(pooled "WITH o AS (SELECT person_id, min(diag_date) d FROM diagnosis
        WHERE code GLOB 'G47.3*' GROUP BY person_id)
    SELECT count(*), sum(EXISTS (SELECT 1 FROM procedure p
        WHERE p.person_id = o.person_id AND p.code = 'FZ571'
        AND julianday(p.proc_date) - julianday(o.d) BETWEEN -180 AND 90))
    FROM o")
check "OSA: >= 60% with polysomnography" '$1 >= 30 && $2 >= 0.6*$1' "$@"

# Lung cancer with an immune checkpoint inhibitor, IBD, early-onset CRC.
set -- $(pooled "WITH l AS (SELECT person_id, min(diag_date) d FROM diagnosis
        WHERE code GLOB 'C34*' GROUP BY person_id)
    SELECT count(*), sum(EXISTS (SELECT 1 FROM drug g
        WHERE g.person_id = l.person_id AND g.code GLOB 'L01FF*'
        AND julianday(g.start_date) - julianday(l.d) BETWEEN 0 AND 730))
    FROM l")
check "lung cancer: some with ICI within 2 years" '$1 >= 30 && $2 >= 0.1*$1 && $2 < $1' "$@"
set -- $(pooled "SELECT count(DISTINCT person_id) FROM diagnosis
    WHERE code GLOB 'K50*' OR code GLOB 'K51*'")
check "IBD patients" '$1 >= 20' "$@"
set -- $(pooled "WITH c AS (SELECT d.person_id, min(diag_date) d, birth_year
        FROM diagnosis d JOIN person USING (person_id)
        WHERE code GLOB 'C18*' OR code GLOB 'C19*' OR code GLOB 'C20*'
        GROUP BY d.person_id)
    SELECT count(*), sum(CAST(substr(d, 1, 4) AS INT) - birth_year < 50)
    FROM c")
years=$(for db in "$D"/*.db; do sqlite3 "$db" "SELECT substr(min(diag_date), 1, 4),
    CAST(substr(min(diag_date), 1, 4) AS INT) - birth_year
    FROM diagnosis JOIN person USING (person_id)
    WHERE code GLOB 'C18*' OR code GLOB 'C19*' OR code GLOB 'C20*'
    GROUP BY person_id"; done | awk -F'|' '$2 < 50 { print $1 }' | sort -u | wc -l)
check "CRC: early-onset (<50) cases, in 5+ different years" \
    '$1 >= 50 && $2 >= 5 && $2 < 0.5*$1 && $3 >= 5' "$@" "$years"

# Eye hospitals see eye diagnoses (H00-H59), general hospitals few.
set -- $(pooled "SELECT count(*), sum(code GLOB 'H[0-5]*') FROM diagnosis" \
    "$D/kims-eye.db" "$D/hangil-eye.db")
check "eye hospitals: >= 90% H00-H59" '$2 >= 0.9*$1 && $1 > 0' "$@"
set -- $(pooled "SELECT count(*), sum(code GLOB 'H[0-5]*') FROM diagnosis" $GENERAL)
check "general hospitals: < 10% H00-H59" '$2 < 0.1*$1' "$@"

# People: older skew, both sexes, some deaths, all visit types.
set -- $(pooled "SELECT count(*), sum(2025 - birth_year >= 60),
    sum(2025 - birth_year < 20), sum(sex = 'F'), sum(sex = 'M'),
    sum(death_date IS NOT NULL), max(2025 - birth_year) >= 95,
    min(2025 - birth_year) <= 2 FROM person")
check "persons: >=60 outnumber <20 3:1, both sexes, 2-25% dead, ages 0-100" \
    '$2 >= 3*$3 && $4 >= 0.4*$1 && $5 >= 0.4*$1 && $6 >= 0.02*$1 && $6 <= 0.25*$1 && $7 > 0 && $8 > 0' "$@"
set -- $(pooled "SELECT count(*), sum(visit_type = 'outpatient'),
    sum(visit_type = 'inpatient'), sum(visit_type = 'emergency'),
    count(DISTINCT substr(start_date, 1, 4)) = 16 FROM visit")
check "visits: mostly outpatient, some inpatient and emergency, 2010-2025" \
    '$2 >= 0.7*$1 && $3 >= 0.01*$1 && $4 >= 0.01*$1 && $5 > 0' "$@"

# Shared patients: same link_key at several sites, same sex, birth year
# and death there; person_id is local.
for db in "$D"/*.db; do
	sqlite3 -separator '|' "$db" "SELECT link_key, sex, birth_year,
	    coalesce(death_date, '') FROM person"
done | sort -u >"$TALLY_TMP/people"
keys=$(cut -d'|' -f1 "$TALLY_TMP/people" | sort -u | wc -l)
rows=$(wc -l <"$TALLY_TMP/people")
[ "$keys" = "$rows" ] || fail "a link_key with different sex/birth/death at two sites"
multi=$(for db in "$D"/*.db; do sqlite3 "$db" "SELECT link_key FROM person"; done |
    sort | uniq -d | wc -l)
total=$(pooled "SELECT count(*) FROM person")
check "link_key shared across sites for some" '$1 >= 0.01*$2 && $1 <= 0.3*$2' "$multi" "$total"
echo ok
