-- Respondents matching the engagement filters by what raking can use (NULL = not known), one row per cell,
-- numbered. Raking gives respondents alike on every margin the same weight, so it runs on these cells; defined
-- once so that weighting_cells and weighting_supporters number them alike.
CREATE MACRO weighting_cell_list(date_from, date_to, method_is, partner_is, locality_is) AS TABLE
SELECT row_number() OVER (ORDER BY locality, quintile, sex, age_band) - 1 AS cell, locality, quintile, sex,
       age_band, count(*) AS respondents, sum(rkey) AS ckey
FROM filtered_responses(date_from, date_to, method_is, partner_is, locality_is)
GROUP BY locality, quintile, sex, age_band
