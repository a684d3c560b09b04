-- Each indicator's deprivation gradient over all five quintiles (1.0 where the pack gives none), divided by its
-- mean weighted by base-year residents per quintile, so the gradient moves expected need between quintiles
-- instead of adding to it (exactly so where quintiles share one age-sex mix). `published_rate` and
-- `weighted_mean` are kept so the build can tell an editor when a pack's gradient was not normalised.
WITH residents AS (
    SELECT d.quintile, sum(p.population) AS residents
    FROM population p JOIN deprivation d USING (area_code)
    GROUP BY d.quintile
), grid AS (
    SELECT i.indicator, q.quintile, coalesce(g.relative_rate, 1.0) AS published_rate,
           coalesce(r.residents, 0) AS residents
    FROM (SELECT DISTINCT indicator FROM need_gradient) i
    CROSS JOIN range(1, 6) q(quintile)
    LEFT JOIN need_gradient g ON g.indicator = i.indicator AND g.quintile = q.quintile
    LEFT JOIN residents r ON r.quintile = q.quintile
), weighted AS (
    SELECT *, sum(residents * published_rate) OVER w / nullif(sum(residents) OVER w, 0) AS weighted_mean
    FROM grid
    WINDOW w AS (PARTITION BY indicator)
)
SELECT indicator, quintile, published_rate, residents, weighted_mean,
       published_rate / coalesce(nullif(weighted_mean, 0), 1.0) AS relative_rate
FROM weighted
ORDER BY indicator, quintile
