-- How many respondents in each weighting cell (macro_weighting_cells.sql) support each strategic priority.
SELECT c.cell, rp.priority, count(*) AS supporters, sum(f.rkey) AS ckey
FROM response_priorities rp
JOIN filtered_responses($date_from, $date_to, $method, $partner, $locality) f USING (response_id)
JOIN weighting_cell_list($date_from, $date_to, $method, $partner, $locality) c
    ON c.locality IS NOT DISTINCT FROM f.locality AND c.quintile IS NOT DISTINCT FROM f.quintile
    AND c.sex IS NOT DISTINCT FROM f.sex AND c.age_band IS NOT DISTINCT FROM f.age_band
GROUP BY ALL
