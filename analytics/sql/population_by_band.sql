-- Base-year residents by locality, sex and age band.
SELECT a.locality, p.sex, p.age_band, sum(p.population) AS population
FROM population p JOIN areas a USING (area_code)
GROUP BY a.locality, p.sex, p.age_band
ORDER BY a.locality, p.sex, p.age_band
