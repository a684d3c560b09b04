-- The partnership's strategic priorities (priorities.csv; empty when the pack has none).
SELECT code, label
FROM priorities
ORDER BY code
