-- What the engagement filters can be set to: methods and partners in use, and the ledger's date range.
SELECT 'method' AS kind, method AS value FROM activities GROUP BY method
UNION ALL SELECT 'partner', partner FROM activities GROUP BY partner
UNION ALL SELECT 'first_date', CAST(min(start_date) AS VARCHAR) FROM activities
UNION ALL SELECT 'last_date', CAST(max(end_date) AS VARCHAR) FROM activities
ORDER BY kind, value
