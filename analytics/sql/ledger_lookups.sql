-- What an upload's values are matched against: small areas (code and name), localities, communities, priorities
-- (code and label), and the activities already in the ledger (id and a description to choose by).
SELECT 'area' AS kind, area_code AS value, area_name AS label FROM areas
UNION ALL SELECT DISTINCT 'locality', locality, locality FROM areas
UNION ALL SELECT DISTINCT 'community', community, community FROM communities
UNION ALL SELECT 'priority', code, label FROM priorities
UNION ALL SELECT 'activity', activity_id,
                 activity_id || ' — ' || title || ' (' || partner || ', ' || CAST(start_date AS VARCHAR) || ')'
          FROM activities
ORDER BY kind, value
