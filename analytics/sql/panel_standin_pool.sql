-- A stand-in volunteer pool for demonstration: engagement respondents whose home area, sex (F or M, as the
-- population tables count) and age band are all known. The response id stands in for a member id.
SELECT response_id AS member_id, area_code, sex, age_band, rkey
FROM stg_response
WHERE area_code IS NOT NULL AND sex IN ('F', 'M') AND age_band IS NOT NULL
