-- People who left a comment in each group (the denominator of every theme's prevalence), with their key sum.
SELECT dimension, grp, count(*) AS commenters, sum(rkey) AS ckey
FROM insight_groups
GROUP BY ALL
