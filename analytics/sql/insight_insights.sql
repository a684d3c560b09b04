-- The insight library: every finding, with the activity it came from.
SELECT i.insight_id, i.title, i.summary, i.published_on, i.locality, i.communities, i.priorities, i.themes,
       i.source, i.link, i.activity_id, a.title AS activity
FROM insights i
LEFT JOIN activities a USING (activity_id)
ORDER BY i.published_on DESC, i.insight_id
