-- Everyone who left a comment, once for each group they count in: the whole partnership ('all'), their home
-- locality, deprivation quintile, broad age group and each community they name; rkey is their record key, summed
-- into each count's cell key for disclosure control. Age groups split at $age_edges (lower ages, ascending).
WITH people AS (
    SELECT r.response_id, r.rkey, r.submitted_on, r.locality, r.quintile, b.lower_age
    FROM stg_response r
    LEFT JOIN age_bands b ON b.age_band = r.age_band
    WHERE r.response_id IN (SELECT response_id FROM insight_commenters)
), aged AS (
    SELECT *, list_filter($age_edges, lambda e: e <= lower_age) AS below FROM people WHERE lower_age IS NOT NULL
)
SELECT 'all' AS dimension, 'All' AS grp, response_id, rkey, submitted_on FROM people
UNION ALL
SELECT 'locality', locality, response_id, rkey, submitted_on FROM people WHERE locality IS NOT NULL
UNION ALL
SELECT 'quintile', CAST(quintile AS VARCHAR), response_id, rkey, submitted_on FROM people WHERE quintile IS NOT NULL
UNION ALL
SELECT 'age_group', $age_labels[len(below)], response_id, rkey, submitted_on FROM aged WHERE len(below) > 0
UNION ALL
SELECT 'community', c.community, p.response_id, p.rkey, p.submitted_on
FROM people p JOIN response_communities c USING (response_id)
