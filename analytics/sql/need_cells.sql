-- Base-year expected people with need (one indicator, or $indicator = 'all' for every indicator summed) by
-- locality, deprivation quintile, sex and age band.
SELECT a.locality, d.quintile, p.sex, p.age_band, sum(p.population * r.rate) AS need
FROM population p
JOIN areas a USING (area_code)
JOIN deprivation d USING (area_code)
JOIN stg_area_need_rate r ON r.area_code = p.area_code AND r.sex = p.sex AND r.age_band = p.age_band
WHERE $indicator = 'all' OR r.indicator = $indicator
GROUP BY ALL
