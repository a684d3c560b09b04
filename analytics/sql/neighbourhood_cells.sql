-- Respondents matching the filters with a known home neighbourhood, by the activity that heard them.
SELECT f.activity_id, open_survey(f.method, f.activity_locality, a.communities, $surveys) AS open_survey,
       f.neighbourhood_code, count(*) AS respondents
FROM filtered_responses($date_from, $date_to, $method, $partner, $locality) f
JOIN activities a USING (activity_id)
WHERE f.neighbourhood_code IS NOT NULL
GROUP BY ALL
