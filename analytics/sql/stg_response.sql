-- One row per response with what is known of the person (home area, locality, deprivation quintile, sex,
-- age band) and of the activity that heard them. Blank cells become NULL.
SELECT r.response_id, r.activity_id, r.submitted_on, nullif(r.area_code, '') AS area_code,
       a.neighbourhood_code, a.locality, d.quintile, nullif(r.sex, '') AS sex, nullif(r.age_band, '') AS age_band,
       act.method, act.partner, act.mode, act.locality AS activity_locality,
       k.rkey
FROM responses r
JOIN response_keys k USING (response_id)
JOIN activities act USING (activity_id)
LEFT JOIN areas a ON a.area_code = r.area_code
LEFT JOIN deprivation d ON d.area_code = r.area_code
