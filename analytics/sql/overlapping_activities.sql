-- Pairs of activities in the same locality aimed at the same community, starting within $days of each other:
-- the same people are likely being asked twice.
SELECT a.activity_id AS first_id, a.title AS first_title, a.partner AS first_partner, a.start_date AS first_start,
       b.activity_id AS second_id, b.title AS second_title, b.partner AS second_partner,
       b.start_date AS second_start, a.locality, ca.community,
       datediff('day', a.start_date, b.start_date) AS days_apart
FROM activities a
JOIN activities b ON a.locality = b.locality AND a.activity_id < b.activity_id
JOIN activity_communities ca ON ca.activity_id = a.activity_id
JOIN activity_communities cb ON cb.activity_id = b.activity_id AND cb.community = ca.community
WHERE a.locality <> 'All'
  AND abs(datediff('day', a.start_date, b.start_date)) <= $days
  AND b.end_date >= CAST($date_from AS DATE) AND a.start_date <= CAST($date_to AS DATE)
ORDER BY a.start_date, a.activity_id, b.activity_id, ca.community
