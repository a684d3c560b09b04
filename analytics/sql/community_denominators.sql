-- Each community's population estimate (or, where there is none, its target) for one locality or 'All'.
SELECT community, kind, population, population_low, population_high, target_min, source
FROM communities
WHERE locality = $locality
ORDER BY community
