-- Consented, redacted quotes under a theme from one published group.
SELECT quote, sentiment
FROM insight_quotes
WHERE theme = $theme AND dimension = $dimension AND grp = $grp
ORDER BY quote
