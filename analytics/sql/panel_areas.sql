-- Every small area with the two things that place a panel member in a stratum: locality and deprivation quintile.
SELECT a.area_code, a.locality, d.quintile
FROM areas a
JOIN deprivation d USING (area_code)
