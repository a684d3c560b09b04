-- Active Citizens Panel members from the optional panel.csv ledger (members who have left do not count).
SELECT member_id, area_code, sex, age_band, k.rkey
FROM panel
JOIN panel_keys k USING (member_id)
WHERE status = 'active'
