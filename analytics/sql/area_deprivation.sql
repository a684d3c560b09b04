-- Every small area with its names, locality, residents and deprivation ranks.
SELECT a.area_code, a.area_name, a.neighbourhood_name, a.locality, r.residents, d.*EXCLUDE (area_code)
FROM areas a
JOIN deprivation d USING (area_code)
JOIN (SELECT area_code, sum(population) AS residents FROM population GROUP BY area_code) r USING (area_code)
ORDER BY a.area_code
