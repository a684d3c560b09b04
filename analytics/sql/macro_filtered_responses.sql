-- The engagement filters, defined once: period, method, partner ('All' = any) and home locality.
CREATE MACRO filtered_responses(date_from, date_to, method_is, partner_is, locality_is) AS TABLE
SELECT *
FROM stg_response
WHERE submitted_on BETWEEN CAST(date_from AS DATE) AND CAST(date_to AS DATE)
  AND (method_is = 'All' OR method = method_is)
  AND (partner_is = 'All' OR partner = partner_is)
  AND (locality_is = 'All' OR locality = locality_is)
