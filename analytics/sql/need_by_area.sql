-- Projected residents and expected people with one need indicator per small area, for a year and variant:
-- Σ over sex × age band of rate × deprivation gradient × projected residents.
SELECT pr.area_code, pr.neighbourhood_code, pr.locality,
       sum(pr.population) AS population, sum(pr.population * r.rate) AS expected
FROM stg_area_projection pr
JOIN stg_area_need_rate r USING (area_code, sex, age_band)
WHERE pr.variant = $variant AND pr.year = $year AND r.indicator = $indicator
GROUP BY pr.area_code, pr.neighbourhood_code, pr.locality
ORDER BY pr.area_code
