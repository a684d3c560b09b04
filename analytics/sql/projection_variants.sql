-- The projection variants and years available for the whole partnership.
SELECT variant, min(year) AS first_year, max(year) AS last_year
FROM stg_partnership_projection
GROUP BY variant
ORDER BY variant = 'principal' DESC, variant
