-- Obstructive sleep apnea with a sleep study (docs/examples/osa_psg.json),
-- as a careful analyst writes it.
WITH osa AS (
	SELECT d.person_id, min(d.diag_date) AS idx
	FROM diagnosis d
	WHERE d.code_system = 'KCD8' AND d.code GLOB 'G47.3*'
	GROUP BY d.person_id
), k AS (
	SELECT osa.person_id, osa.idx, coalesce(p.sex, 'U') AS sex,
	    p.birth_year,
	    CAST(substr(osa.idx, 1, 4) AS INTEGER) - p.birth_year AS age
	FROM osa JOIN person p ON p.person_id = osa.person_id
	WHERE osa.idx BETWEEN '2010-01-01' AND '2025-12-31'
	  AND (p.death_date IS NULL OR osa.idx <= p.death_date)
)
SELECT sex,
    CASE WHEN birth_year IS NULL THEN 'unknown'
	WHEN age < 10 THEN '0-9' WHEN age >= 90 THEN '90+'
	ELSE (age / 10 * 10) || '-' || (age / 10 * 10 + 9) END,
    count(*)
FROM k
WHERE EXISTS (SELECT 1 FROM procedure x WHERE x.person_id = k.person_id
	AND x.code_system = 'EDI' AND x.code = 'FZ571'
	AND x.proc_date BETWEEN date(k.idx, '-180 days')
	    AND date(k.idx, '+90 days'))
GROUP BY 1, 2;
