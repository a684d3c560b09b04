-- Respondents matching the engagement filters by what raking can use (NULL = not known), one row per cell.
-- Raking gives respondents alike on every margin the same weight, so it runs on these cells, not on respondents;
-- cells are numbered in this order, as weighting_supporters numbers them.
SELECT row_number() OVER (ORDER BY locality, quintile, sex, age_band) - 1 AS cell, locality, quintile, sex,
       age_band, count(*) AS respondents
FROM filtered_responses($date_from, $date_to, $method, $partner, $locality)
GROUP BY locality, quintile, sex, age_band
