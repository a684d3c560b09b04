-- Need indicators: code, label, unit and source (one row each).
SELECT indicator, any_value(label) AS label, any_value(unit) AS unit, any_value(source) AS source
FROM need_indicators
GROUP BY indicator
ORDER BY indicator
