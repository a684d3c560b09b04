-- Each theme's published prevalence in each group of one kind ($dimension: all, locality, quintile, age_group,
-- community), from the themes' source ($source: codebook or discovered). Counts are published (perturbed, withheld
-- under the threshold) at build.
SELECT grp, theme, mentioned, commenters, share, share_low, share_high, withheld, last_heard
FROM insight_prevalence
WHERE source = $source AND dimension = $dimension
ORDER BY grp, theme
