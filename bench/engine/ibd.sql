-- Inflammatory bowel disease (docs/examples/ibd.json), as a careful
-- analyst writes it.
WITH ibd AS (
	SELECT d.person_id, min(d.diag_date) AS idx
	FROM diagnosis d
	WHERE d.code_system = 'KCD8'
	  AND (d.code GLOB 'K50*' OR d.code GLOB 'K51*')
	GROUP BY d.person_id
), k AS (
	SELECT coalesce(p.sex, 'U') AS sex, p.birth_year,
	    CAST(substr(ibd.idx, 1, 4) AS INTEGER) - p.birth_year AS age
	FROM ibd JOIN person p ON p.person_id = ibd.person_id
	WHERE ibd.idx BETWEEN '2010-01-01' AND '2025-12-31'
	  AND (p.death_date IS NULL OR ibd.idx <= p.death_date)
)
SELECT sex,
    CASE WHEN birth_year IS NULL THEN 'unknown'
	WHEN age < 10 THEN '0-9' WHEN age >= 90 THEN '90+'
	ELSE (age / 10 * 10) || '-' || (age / 10 * 10 + 9) END,
    count(*)
FROM k
GROUP BY 1, 2;
