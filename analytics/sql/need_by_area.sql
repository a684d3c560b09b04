-- Projected residents and expected people with one need indicator per small area, for a year and variant:
-- Σ over sex × age band of rate × deprivation gradient × projected residents.
SELECT pr.area_code, a.area_name, pr.neighbourhood_code, pr.locality,
       sum(pr.population) AS population, sum(pr.population * r.rate) AS expected
FROM stg_area_projection pr
JOIN stg_area_need_rate r USING (area_code, sex, age_band)
JOIN areas a ON a.area_code = pr.area_code
WHERE pr.variant = $variant AND pr.year = $year AND r.indicator = $indicator
GROUP BY pr.area_code, a.area_name, pr.neighbourhood_code, pr.locality
ORDER BY pr.area_code
