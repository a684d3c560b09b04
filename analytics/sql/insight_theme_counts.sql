-- People who mentioned each theme (codebook or discovered topic) in each group, with the sum of their record keys
-- for cell-key protection and when the group last mentioned it. One row per person and theme in the coding, so
-- count(*) counts distinct people.
SELECT t.source, g.dimension, g.grp, t.theme, count(*) AS mentioned, sum(g.rkey) AS ckey,
       max(g.submitted_on) AS last_heard
FROM insight_groups g
JOIN (SELECT DISTINCT source, response_id, theme FROM insight_comment_themes) t USING (response_id)
GROUP BY ALL
