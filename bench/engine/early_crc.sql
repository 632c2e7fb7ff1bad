-- Early-onset (<50) colorectal cancer by year of diagnosis
-- (docs/examples/early_crc.json), as a careful analyst writes it.
WITH crc AS (
	SELECT d.person_id, min(d.diag_date) AS idx
	FROM diagnosis d
	WHERE d.code_system = 'KCD8'
	  AND (d.code GLOB 'C18*' OR d.code GLOB 'C19*' OR d.code GLOB 'C20*')
	GROUP BY d.person_id
)
SELECT substr(crc.idx, 1, 4), count(*)
FROM crc JOIN person p ON p.person_id = crc.person_id
WHERE crc.idx BETWEEN '2010-01-01' AND '2025-12-31'
	  AND (p.death_date IS NULL OR crc.idx <= p.death_date)
  AND p.birth_year IS NOT NULL
  AND CAST(substr(crc.idx, 1, 4) AS INTEGER) - p.birth_year <= 49
GROUP BY 1;
