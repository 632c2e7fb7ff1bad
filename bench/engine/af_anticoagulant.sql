-- AF, anticoagulant started within 30 days (docs/examples/af_anticoagulant.json)
-- as a careful analyst writes it: first qualifying diagnosis per person
-- (GROUP BY over the code index; a person whose first diagnosis is after
-- their death has none that counts), then one correlated EXISTS per
-- criterion, dates compared as ISO text, the Baseline DB's own indexes.
WITH af AS (
	SELECT d.person_id, min(d.diag_date) AS idx
	FROM diagnosis d
	WHERE ((d.code_system = 'KCD8' AND d.code GLOB 'I48*')
	    OR (d.code_system = 'ICD10' AND d.code GLOB 'I48*'))
	GROUP BY d.person_id
), k AS (
	SELECT af.person_id, af.idx, coalesce(p.sex, 'U') AS sex, p.birth_year,
	    CAST(substr(af.idx, 1, 4) AS INTEGER) - p.birth_year AS age
	FROM af JOIN person p ON p.person_id = af.person_id
	WHERE af.idx BETWEEN '2015-01-01' AND '2024-12-31'
	  AND (p.death_date IS NULL OR af.idx <= p.death_date)
)
SELECT sex,
    CASE WHEN birth_year IS NULL THEN 'unknown'
	WHEN age < 10 THEN '0-9' WHEN age >= 90 THEN '90+'
	ELSE (age / 10 * 10) || '-' || (age / 10 * 10 + 9) END,
    substr(idx, 1, 4), count(*)
FROM k
WHERE birth_year IS NOT NULL AND age >= 18
  AND EXISTS (SELECT 1 FROM drug r WHERE r.person_id = k.person_id
	AND r.code_system = 'ATC'
	AND (r.code GLOB 'B01AA*' OR r.code GLOB 'B01AF*')
	AND r.start_date BETWEEN k.idx AND date(k.idx, '+30 days'))
  AND NOT EXISTS (SELECT 1 FROM diagnosis v WHERE v.person_id = k.person_id
	AND v.code_system = 'KCD8' AND v.code GLOB 'I05*'
	AND v.diag_date BETWEEN date(k.idx, '-365 days')
	    AND date(k.idx, '-1 days'))
  AND EXISTS (SELECT 1 FROM lab l WHERE l.person_id = k.person_id
	AND l.code_system = 'LOINC' AND l.code = '4548-4'
	AND l.value_num >= 6.5
	AND l.lab_date BETWEEN date(k.idx, '-90 days') AND k.idx)
GROUP BY 1, 2, 3;
