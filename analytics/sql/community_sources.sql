-- Communities with their kind, partnership-wide estimate or target, and source.
SELECT community, kind, population, population_low, population_high, target_min, source
FROM communities
WHERE locality = 'All'
ORDER BY community
