-- One row per respondent matching the engagement filters, with what raking can use; NULL = not known.
SELECT response_id, locality, quintile, sex, age_band
FROM filtered_responses($date_from, $date_to, $method, $partner, $locality)
