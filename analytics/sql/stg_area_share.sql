-- The weights the ratio method shares projections by (stg_area_projection): each small area's base-year residents
-- of every sex and age band, 0 where population.csv has no row (a band may be projected that nobody lives in),
-- and its residents of that sex at all ages and at all. The wider two are fallbacks for a band with no residents
-- in the whole pool being shared, so a projected figure is never dropped.
WITH cells AS (
    SELECT a.area_code, a.neighbourhood_code, a.locality, s.sex, b.age_band,
           coalesce(p.population, 0) AS base_population
    FROM areas a
    CROSS JOIN (VALUES ('F'), ('M')) s(sex)
    CROSS JOIN age_bands b
    LEFT JOIN population p ON p.area_code = a.area_code AND p.sex = s.sex AND p.age_band = b.age_band
)
SELECT area_code, neighbourhood_code, locality, sex, age_band, base_population,
       sum(base_population) OVER (PARTITION BY area_code, sex) AS sex_population,
       sum(base_population) OVER (PARTITION BY area_code) AS all_population
FROM cells
ORDER BY area_code, sex, age_band  -- a materialised table: the same pack gives the same rows in order
