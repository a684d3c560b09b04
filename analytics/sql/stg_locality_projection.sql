-- Projections a pack publishes for one of its localities (geography = a locality name, as SCHEMA.md allows):
-- used as published, and shared over that locality's small areas only.
SELECT p.geography AS locality, p.variant, p.year, p.sex, p.age_band, p.population
FROM projections p
WHERE p.geography IN (SELECT locality FROM areas)
  AND p.geography <> (SELECT value FROM meta WHERE key = 'name')
