-- Type 2 diabetes with HbA1c >= 6.5% within a year of diagnosis
-- (docs/examples/t2dm_hba1c.json), as a careful analyst writes it.
WITH dm AS (
	SELECT d.person_id, min(d.diag_date) AS idx
	FROM diagnosis d
	WHERE d.code_system = 'KCD8' AND d.code GLOB 'E11*'
	GROUP BY d.person_id
), k AS (
	SELECT dm.person_id, dm.idx, coalesce(p.sex, 'U') AS sex, p.birth_year,
	    CAST(substr(dm.idx, 1, 4) AS INTEGER) - p.birth_year AS age
	FROM dm JOIN person p ON p.person_id = dm.person_id
	WHERE dm.idx BETWEEN '2010-01-01' AND '2025-12-31'
	  AND (p.death_date IS NULL OR dm.idx <= p.death_date)
)
SELECT sex,
    CASE WHEN birth_year IS NULL THEN 'unknown'
	WHEN age < 10 THEN '0-9' WHEN age >= 90 THEN '90+'
	ELSE (age / 10 * 10) || '-' || (age / 10 * 10 + 9) END,
    count(*)
FROM k
WHERE EXISTS (SELECT 1 FROM lab l WHERE l.person_id = k.person_id
	AND l.code_system = 'LOINC' AND l.code = '4548-4'
	AND l.value_num >= 6.5
	AND l.lab_date BETWEEN date(k.idx, '-365 days')
	    AND date(k.idx, '+365 days'))
GROUP BY 1, 2;
