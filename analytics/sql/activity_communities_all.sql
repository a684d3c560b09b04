-- Which communities each activity aimed at.
SELECT activity_id, community FROM activity_communities ORDER BY activity_id, community
