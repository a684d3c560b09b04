-- Projected residents per small area, variant, year, sex and age band by the ratio method PHS uses for locality
-- profiles: the area's share of its pool's base-year residents of the sex and band, times the pool's projection
-- (stg_area_projection_target: a locality's own published projection, else the partnership's less any published
-- localities). Written as shares, areas add up exactly to what they share, whatever base the projection was
-- made from. Where the pool has no residents of the band, the share falls back to residents of the sex at all
-- ages, then to all residents, then to an equal split, so no projected person is lost.
SELECT s.area_code, s.neighbourhood_code, s.locality, t.variant, t.year, s.sex, s.age_band,
       t.target * coalesce(s.base_population / nullif(t.band_base, 0), s.sex_population / nullif(t.sex_base, 0),
                           s.all_population / nullif(t.all_base, 0), 1 / t.areas) AS population
FROM stg_area_share s
JOIN stg_area_projection_target t ON t.locality = s.locality AND t.sex = s.sex AND t.age_band = s.age_band
