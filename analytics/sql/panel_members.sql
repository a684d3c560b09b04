-- Active Citizens Panel members from the optional panel.csv ledger (members who have left do not count).
SELECT member_id, area_code, sex, age_band
FROM panel
WHERE status = 'active'
