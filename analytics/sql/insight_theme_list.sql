-- Every theme across the partnership: published people mentioning it, share, interval, mood and when last heard.
SELECT t.source, t.theme, t.mentioned, t.share, t.share_low, t.share_high, t.withheld, t.sentiment, t.last_heard,
       coalesce(c.phrases, p.terms, '') AS words
FROM insight_themes t
LEFT JOIN insight_codebook c ON t.source = 'codebook' AND c.theme = t.theme
LEFT JOIN insight_topics p ON t.source = 'discovered' AND p.theme = t.theme
ORDER BY t.source, t.theme
