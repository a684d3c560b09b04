-- Respondents matching the filters who say they belong to each community, by home locality, method, partner
-- and the activity that heard them.
SELECT c.community, f.locality, f.method, f.partner, f.activity_id, count(*) AS respondents, sum(f.rkey) AS ckey
FROM filtered_responses($date_from, $date_to, $method, $partner, $locality) f
JOIN response_communities c USING (response_id)
-- The one base of every respondent table (analytics/reach.py): aged min_age+, home area and sex F/M known.
WHERE f.age_band IN (SELECT age_band FROM age_bands WHERE lower_age >= $min_age)
  AND f.sex IN ('F', 'M') AND f.locality IS NOT NULL AND f.quintile IS NOT NULL
GROUP BY ALL
