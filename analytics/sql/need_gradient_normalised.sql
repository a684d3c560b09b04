-- For the build's notes: each indicator whose published gradient did not have a residents-weighted mean of 1
-- (beyond $tolerance), with its five published and normalised relative rates in quintile order.
SELECT indicator, any_value(weighted_mean) AS weighted_mean,
       list(published_rate ORDER BY quintile) AS published, list(relative_rate ORDER BY quintile) AS normalised
FROM stg_need_gradient
WHERE abs(weighted_mean - 1) > $tolerance
GROUP BY indicator
ORDER BY indicator
