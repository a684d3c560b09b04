-- "You said, we did": each action with the insights it answers (one row per action and insight).
SELECT a.action_id, trim(i.insight_id) AS insight_id, a.decision, a.owner, a.status, a.reason, a.reported_back_on
FROM actions a, unnest(string_split(a.insight_ids, ';')) AS i(insight_id)
WHERE trim(i.insight_id) <> ''
ORDER BY a.action_id, insight_id
