-- Respondents matching the filters at the finest grain the reach measures need; NULL = not known.
SELECT locality, neighbourhood_code, quintile, sex, age_band, method, partner, count(*) AS respondents, sum(rkey) AS ckey
FROM filtered_responses($date_from, $date_to, $method, $partner, $locality)
GROUP BY ALL
