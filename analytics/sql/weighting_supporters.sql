-- Which respondents matching the filters support which strategic priority (a row = support).
SELECT rp.response_id, rp.priority
FROM response_priorities rp
JOIN filtered_responses($date_from, $date_to, $method, $partner, $locality) f USING (response_id)
