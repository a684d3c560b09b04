-- Respondents matching the filters with a known home neighbourhood, by the activity that heard them, with what
-- analytics/reach.py needs to keep its one base (age band, sex, locality, quintile).
SELECT f.activity_id, open_survey(f.method, f.activity_locality, a.communities, $surveys) AS open_survey,
       f.neighbourhood_code, f.locality, f.quintile, f.sex, f.age_band, count(*) AS respondents, sum(f.rkey) AS ckey
FROM filtered_responses($date_from, $date_to, $method, $partner, $locality) f
JOIN activities a USING (activity_id)
WHERE f.neighbourhood_code IS NOT NULL
GROUP BY ALL
