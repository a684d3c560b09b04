-- Respondents matching the filters with a known home neighbourhood, by the activity that heard them (see
-- design_cells.sql for open_survey).
SELECT f.activity_id, f.neighbourhood_code,
       (f.activity_locality = 'All' AND list_contains($surveys, f.method)
        AND coalesce(a.communities, '') = '') AS open_survey,
       count(*) AS respondents
FROM filtered_responses($date_from, $date_to, $method, $partner, $locality) f
JOIN activities a USING (activity_id)
WHERE f.neighbourhood_code IS NOT NULL
GROUP BY ALL
