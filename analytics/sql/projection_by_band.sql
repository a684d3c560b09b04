-- Projected residents by year, sex and age band for one variant, in one locality or ($locality = 'All')
-- the whole partnership.
SELECT year, sex, age_band, sum(population) AS population
FROM stg_area_projection
WHERE variant = $variant AND ($locality = 'All' OR locality = $locality)
GROUP BY year, sex, age_band
ORDER BY year, sex, age_band
