-- The whole partnership's projection (geography = the pack's name), every variant, year, sex and age band.
SELECT p.variant, p.year, p.sex, p.age_band, p.population
FROM projections p
WHERE p.geography = (SELECT value FROM meta WHERE key = 'name')
