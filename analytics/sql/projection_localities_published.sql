-- For the build's notes: each locality with its own rows in projections.csv, how many there are, and how many
-- match a cell (variant × year × sex × band) of the partnership's projection, the ones the dashboard uses.
SELECT l.locality, count(*) AS rows, count(p.population) AS used
FROM stg_locality_projection l
LEFT JOIN stg_partnership_projection p
    ON p.variant = l.variant AND p.year = l.year AND p.sex = l.sex AND p.age_band = l.age_band
GROUP BY l.locality
ORDER BY l.locality
