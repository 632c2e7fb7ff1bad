-- Immune checkpoint inhibitor within two years of a lung cancer diagnosis
-- (docs/examples/lung_ici.json), as a careful analyst writes it.
WITH lc AS (
	SELECT d.person_id, min(d.diag_date) AS idx
	FROM diagnosis d
	WHERE d.code_system = 'KCD8' AND d.code GLOB 'C34*'
	GROUP BY d.person_id
), k AS (
	SELECT lc.person_id, lc.idx, coalesce(p.sex, 'U') AS sex, p.birth_year,
	    CAST(substr(lc.idx, 1, 4) AS INTEGER) - p.birth_year AS age
	FROM lc JOIN person p ON p.person_id = lc.person_id
	WHERE lc.idx BETWEEN '2015-01-01' AND '2025-12-31'
	  AND (p.death_date IS NULL OR lc.idx <= p.death_date)
)
SELECT sex,
    CASE WHEN birth_year IS NULL THEN 'unknown'
	WHEN age < 10 THEN '0-9' WHEN age >= 90 THEN '90+'
	ELSE (age / 10 * 10) || '-' || (age / 10 * 10 + 9) END,
    count(*)
FROM k
WHERE EXISTS (SELECT 1 FROM drug r WHERE r.person_id = k.person_id
	AND r.code_system = 'ATC' AND r.code GLOB 'L01FF*'
	AND r.start_date BETWEEN k.idx AND date(k.idx, '+730 days'))
GROUP BY 1, 2;
