-- Headline counts for the home page: one row.
SELECT
    (SELECT sum(population) FROM population)                     AS residents,
    (SELECT count(*) FROM areas)                                 AS areas,
    (SELECT count(DISTINCT neighbourhood_code) FROM areas)       AS neighbourhoods,
    (SELECT count(DISTINCT locality) FROM areas)                 AS localities,
    (SELECT count(*) FROM activities)                            AS activities,
    (SELECT count(DISTINCT partner) FROM activities)             AS partners,
    (SELECT coalesce(sum(participants), 0) FROM activities)      AS participants,
    (SELECT count(*) FROM responses)                             AS responses,
    (SELECT min(start_date) FROM activities)                     AS first_activity,
    (SELECT max(end_date) FROM activities)                       AS last_activity
