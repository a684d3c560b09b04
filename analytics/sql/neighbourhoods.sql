-- Neighbourhoods with their locality, names and residents.
SELECT a.neighbourhood_code, any_value(a.neighbourhood_name) AS neighbourhood_name, any_value(a.locality) AS locality,
       sum(p.population) AS residents
FROM areas a JOIN population p USING (area_code)
GROUP BY a.neighbourhood_code
ORDER BY a.neighbourhood_code
