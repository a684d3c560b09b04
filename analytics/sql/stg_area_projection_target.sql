-- What the small areas of each locality share, per variant, year, sex and age band, and the base-year residents
-- they share it by. A locality with its own published projection shares that; the other localities pool what
-- the partnership's projection leaves once the published localities are taken out (never below 0), so the areas
-- add up to the published locality figures and, with the pool, to the partnership's. `pool` is the locality
-- for a published one and NULL for the shared pool; the sums over a pool are its denominators.
WITH locality_base AS (
    SELECT locality, sex, age_band, sum(base_population) AS band_base, sum(sex_population) AS sex_base,
           sum(all_population) AS all_base, count(*) AS areas
    FROM stg_area_share
    GROUP BY locality, sex, age_band
), cells AS (
    SELECT p.variant, p.year, p.sex, p.age_band, b.locality, p.population AS partnership,
           l.population AS locality_figure,
           CASE WHEN l.population IS NOT NULL THEN b.locality END AS pool, b.band_base, b.sex_base, b.all_base,
           b.areas
    FROM stg_partnership_projection p
    JOIN locality_base b ON b.sex = p.sex AND b.age_band = p.age_band
    LEFT JOIN stg_locality_projection l
        ON l.locality = b.locality AND l.variant = p.variant AND l.year = p.year AND l.sex = p.sex
       AND l.age_band = p.age_band
)
SELECT variant, year, sex, age_band, locality, pool IS NOT NULL AS published,
       coalesce(locality_figure, greatest(partnership - coalesce(sum(locality_figure) OVER cell, 0), 0))
           AS target,
       sum(band_base) OVER pooled AS band_base, sum(sex_base) OVER pooled AS sex_base,
       sum(all_base) OVER pooled AS all_base, sum(areas) OVER pooled AS areas
FROM cells
WINDOW cell AS (PARTITION BY variant, year, sex, age_band),
       pooled AS (PARTITION BY variant, year, sex, age_band, pool)
ORDER BY locality, variant, year, sex, age_band  -- materialised: the same pack gives the same rows in order
