-- Projected residents and expected people summed over every need indicator, per neighbourhood, for a year and
-- variant (a combined need measure: people with several needs count once per need).
SELECT pr.neighbourhood_code, sum(pr.population) / count(DISTINCT r.indicator) AS population,
       sum(pr.population * r.rate) AS expected
FROM stg_area_projection pr
JOIN stg_area_need_rate r USING (area_code, sex, age_band)
WHERE pr.variant = $variant AND pr.year = $year
GROUP BY pr.neighbourhood_code
ORDER BY pr.neighbourhood_code
