-- Projected residents per small area, variant, year, sex and age band (ratio method, see stg_area_share).
SELECT s.area_code, s.neighbourhood_code, s.locality, p.variant, p.year, s.sex, s.age_band,
       s.share * p.population AS population
FROM stg_area_share s
JOIN stg_partnership_projection p USING (sex, age_band)
