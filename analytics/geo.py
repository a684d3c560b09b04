"""Geometry stays in shapely (DuckDB's spatial extension is not available offline): boundaries are stored as
GeoJSON text per area, neighbourhood and locality, and maps get a FeatureCollection keyed by code."""
from __future__ import annotations

import json

import pandas as pd
import shapely
from shapely.geometry import mapping, shape

from analytics.db import Store

LEVELS = {"area": "area_code", "neighbourhood": "neighbourhood_code", "locality": "locality"}


def geometry_tables(geojson: dict, areas: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Tables area_geometry, neighbourhood_geometry, locality_geometry: (code, geometry) as GeoJSON text."""
    if not geojson:
        return {}
    shapes = {f["properties"]["area_code"].strip(): shape(f["geometry"]) for f in geojson["features"]}
    frame = areas.assign(shape=areas["area_code"].map(shapes))
    out = {}
    for level, column in LEVELS.items():
        if level == "area":
            grouped = frame.set_index(column)["shape"]
        else:  # coverage_union keeps the dissolved outline exact where the areas share edges
            grouped = frame.groupby(column)["shape"].agg(lambda g: shapely.coverage_union_all(list(g)))
        out[f"{level}_geometry"] = pd.DataFrame({
            "code": grouped.index.astype(str),
            "geometry": [json.dumps(mapping(_rounded(g)), separators=(",", ":")) for g in grouped]})
    return out


def _rounded(geometry: shapely.Geometry) -> shapely.Geometry:
    # 5 decimals is about 1 m: finer only adds bytes to every map sent to a browser.
    return shapely.set_precision(geometry, 1e-5) if not geometry.is_empty else geometry


def feature_collection(con: Store, level: str = "area") -> dict:
    """A FeatureCollection with `id` = code and no properties: the smallest thing a choropleth needs."""
    if level not in LEVELS:
        raise ValueError(f"unknown map level {level!r}; expected one of {sorted(LEVELS)}")
    rows = con.query("geometry", level=level)
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "id": code, "geometry": json.loads(geometry)}
                         for code, geometry in rows.itertuples(index=False, name=None)]}
