-- Projected residents per small area, variant, year, sex and age band by the ratio method PHS uses for locality
-- profiles: the partnership's projected growth for the band since the pack's base year, applied to the area's
-- base-year residents. So the base year equals population.csv even when the projection was made from another
-- base (imported 2016-based projections with mid-2020 estimates), and areas add up to the partnership's
-- projection whenever its base-year figure equals population.csv. A band the projection has no base-year figure
-- for falls back to the area's share of the band's residents (stg_area_share).
WITH base AS (
    SELECT variant, sex, age_band, population AS base
    FROM stg_partnership_projection
    WHERE year = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'base_year')
)
SELECT s.area_code, s.neighbourhood_code, s.locality, p.variant, p.year, s.sex, s.age_band,
       CASE WHEN b.base > 0 THEN s.base_population * p.population / b.base ELSE s.share * p.population END
           AS population
FROM stg_area_share s
JOIN stg_partnership_projection p USING (sex, age_band)
LEFT JOIN base b ON b.variant = p.variant AND b.sex = p.sex AND b.age_band = p.age_band
