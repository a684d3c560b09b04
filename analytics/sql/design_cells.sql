-- Respondents matching the filters by the activity that heard them (the cluster they arrived in; its method and
-- partner follow from it, so they add no rows), at the grain of the representation tables.
SELECT f.activity_id, open_survey(f.method, f.activity_locality, a.communities, $surveys) AS open_survey,
       f.method, f.partner, f.locality, f.quintile, f.sex, f.age_band, count(*) AS respondents, sum(f.rkey) AS ckey
FROM filtered_responses($date_from, $date_to, $method, $partner, $locality) f
JOIN activities a USING (activity_id)
GROUP BY ALL
