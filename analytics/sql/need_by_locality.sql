-- Expected people for every indicator by locality, in the base year and a chosen year, for one variant.
SELECT pr.locality, r.indicator, pr.year, sum(pr.population * r.rate) AS expected
FROM stg_area_projection pr
JOIN stg_area_need_rate r USING (area_code, sex, age_band)
WHERE pr.variant = $variant AND pr.year IN ($base_year, $year)
GROUP BY pr.locality, r.indicator, pr.year
ORDER BY pr.locality, r.indicator, pr.year
