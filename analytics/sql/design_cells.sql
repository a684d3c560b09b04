-- Respondents matching the filters by the activity that heard them (the cluster they arrived in), at the grain
-- of the representation tables. open_survey marks open partnership-wide surveys (a survey method, locality
-- 'All', no community named), whose respondents count as units of their own (analytics/design.py).
SELECT f.activity_id, f.locality, f.quintile, f.sex, f.age_band,
       (f.activity_locality = 'All' AND list_contains($surveys, f.method)
        AND coalesce(a.communities, '') = '') AS open_survey,
       count(*) AS respondents
FROM filtered_responses($date_from, $date_to, $method, $partner, $locality) f
JOIN activities a USING (activity_id)
GROUP BY ALL
