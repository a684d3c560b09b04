-- Boundaries for one map level ('area', 'neighbourhood' or 'locality') as GeoJSON text.
SELECT code, geometry FROM area_geometry WHERE $level = 'area'
UNION ALL SELECT code, geometry FROM neighbourhood_geometry WHERE $level = 'neighbourhood'
UNION ALL SELECT code, geometry FROM locality_geometry WHERE $level = 'locality'
ORDER BY code
