-- Base-year residents by locality and deprivation quintile.
SELECT a.locality, d.quintile, sum(p.population) AS population
FROM population p JOIN areas a USING (area_code) JOIN deprivation d USING (area_code)
GROUP BY a.locality, d.quintile
ORDER BY a.locality, d.quintile
