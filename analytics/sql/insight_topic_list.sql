-- Topics discovery proposes (TF-IDF + NMF over what the codebook missed), for an editor to name and keep.
SELECT topic, theme, terms, like_theme, mentioned, share, withheld
FROM insight_topics
ORDER BY topic
