-- Each small area's share of the partnership's base-year residents of its sex and age band. Multiplying a
-- partnership projection by these shares is the ratio method PHS uses for locality profiles (the
-- partnership's growth ratio per band applied to the area's base population); written as shares, areas
-- always add up to the partnership projection.
WITH totals AS (
    SELECT sex, age_band, sum(population) AS total FROM population GROUP BY sex, age_band
)
SELECT p.area_code, a.neighbourhood_code, a.locality, p.sex, p.age_band, p.population AS base_population,
       coalesce(p.population / nullif(t.total, 0), 0) AS share
FROM population p
JOIN areas a USING (area_code)
JOIN totals t USING (sex, age_band)
