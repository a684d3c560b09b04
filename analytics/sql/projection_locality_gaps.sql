-- For the build's notes: where published locality projections disagree with the partnership's. `over`: cells in
-- which they add up to more than the partnership, so the other localities' pool is set to 0; `all_gap`: where
-- every locality is published, the largest difference between their sum and the partnership's figure.
WITH cells AS (
    SELECT variant, year, sex, age_band, sum(target) FILTER (WHERE published) AS published_sum,
           bool_and(published) AS all_published
    FROM stg_area_projection_target
    GROUP BY variant, year, sex, age_band
)
SELECT count(*) FILTER (WHERE NOT c.all_published AND c.published_sum > p.population) AS over,
       coalesce(max(abs(c.published_sum - p.population)) FILTER (WHERE c.all_published), 0) AS all_gap
FROM cells c
JOIN stg_partnership_projection p USING (variant, year, sex, age_band)
