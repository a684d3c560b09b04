-- How many respondents in each weighting cell (numbered as in weighting_cells) support each strategic priority.
WITH f AS (
    SELECT * FROM filtered_responses($date_from, $date_to, $method, $partner, $locality)
), cells AS (
    SELECT row_number() OVER (ORDER BY locality, quintile, sex, age_band) - 1 AS cell, locality, quintile, sex,
           age_band
    FROM f
    GROUP BY locality, quintile, sex, age_band
)
SELECT c.cell, rp.priority, count(*) AS supporters
FROM response_priorities rp
JOIN f USING (response_id)
JOIN cells c ON c.locality IS NOT DISTINCT FROM f.locality AND c.quintile IS NOT DISTINCT FROM f.quintile
    AND c.sex IS NOT DISTINCT FROM f.sex AND c.age_band IS NOT DISTINCT FROM f.age_band
GROUP BY ALL
