-- Localities with their residents and small areas, largest first.
SELECT a.locality, count(DISTINCT a.area_code) AS areas, sum(p.population) AS residents
FROM areas a JOIN population p USING (area_code)
GROUP BY a.locality
ORDER BY a.locality
