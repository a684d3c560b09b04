-- Activities that ran in the period (any overlap) matching method, partner and locality ('All' = any;
-- partnership-wide activities count for every locality).
SELECT activity_id, title, method, partner, start_date, end_date, locality, mode, participants, k.rkey AS akey
FROM activities
JOIN activity_keys k USING (activity_id)
WHERE end_date >= CAST($date_from AS DATE) AND start_date <= CAST($date_to AS DATE)
  AND ($method = 'All' OR method = $method)
  AND ($partner = 'All' OR partner = $partner)
  AND ($locality = 'All' OR locality IN ($locality, 'All'))
ORDER BY start_date, activity_id
