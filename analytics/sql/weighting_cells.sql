-- The weighting cells (macro_weighting_cells.sql) of the respondents matching the engagement filters.
SELECT cell, locality, quintile, sex, age_band, respondents, ckey
FROM weighting_cell_list($date_from, $date_to, $method, $partner, $locality)
