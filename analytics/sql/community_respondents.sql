-- Respondents matching the filters who say they belong to each community, by home locality, method, partner
-- and the activity that heard them.
SELECT c.community, f.locality, f.method, f.partner, f.activity_id, count(*) AS respondents
FROM filtered_responses($date_from, $date_to, $method, $partner, $locality) f
JOIN response_communities c USING (response_id)
WHERE f.age_band IS NULL OR f.age_band IN (SELECT age_band FROM age_bands WHERE lower_age >= $min_age)
GROUP BY ALL
