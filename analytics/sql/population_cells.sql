-- Base-year residents at the grain of respondent_cells.
SELECT a.locality, a.neighbourhood_code, d.quintile, p.sex, p.age_band, sum(p.population) AS population
FROM population p JOIN areas a USING (area_code) JOIN deprivation d USING (area_code)
GROUP BY ALL
