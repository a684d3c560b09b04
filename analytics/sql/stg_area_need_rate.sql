-- Expected cases per person for each area, indicator, sex and age band: the published age-sex rate times the
-- normalised deprivation gradient of the area's quintile (stg_need_gradient; 1.0 where the pack gives none).
SELECT d.area_code, n.indicator, n.sex, n.age_band, n.rate * coalesce(g.relative_rate, 1.0) AS rate
FROM need_indicators n
CROSS JOIN deprivation d
LEFT JOIN stg_need_gradient g ON g.indicator = n.indicator AND g.quintile = d.quintile
