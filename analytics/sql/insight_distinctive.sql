-- The themes that set one group's comments apart from everyone else's (weighted log-odds, Monroe et al. 2008).
SELECT theme, log_odds, z, rank
FROM insight_distinctive
WHERE source = $source AND dimension = $dimension AND grp = $grp
ORDER BY rank
