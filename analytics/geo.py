"""Geometry stays in shapely (DuckDB's spatial extension is not available offline): boundaries are stored as
GeoJSON text per area, neighbourhood and locality, and maps get a FeatureCollection keyed by code."""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class MapLayer:
    """What a map trace needs: the boundaries (a URL the browser fetches once, or the GeoJSON itself), the
    centre and zoom that fit them (or the chosen locality), and optionally the localities' outlines (a URL or
    GeoJSON) and names with the point to write each at (name, lon, lat)."""

    source: str | dict
    view: dict
    outlines: str | dict | None = None
    labels: tuple[tuple[str, float, float], ...] = ()


def label_points(geojson: dict) -> tuple[tuple[str, float, float], ...]:
    """(id, lon, lat) of a point inside each feature, for writing its name on a map."""
    points = []
    for feature in geojson["features"]:
        point = shape(feature["geometry"]).representative_point()
        points.append((str(feature["id"]), round(point.x, 5), round(point.y, 5)))
    return tuple(points)


def collect_coordinates(coords: list, xs: list[float], ys: list[float]) -> None:
    if coords and isinstance(coords[0], (int, float)):
        xs.append(coords[0])
        ys.append(coords[1])
        return
    for part in coords:
        collect_coordinates(part, xs, ys)


def map_view(geojson: dict) -> dict:
    """Centre and zoom that fit the features (no tiles are drawn, so only the frame matters)."""
    xs: list[float] = []
    ys: list[float] = []
    for feature in geojson["features"]:
        collect_coordinates(feature["geometry"]["coordinates"], xs, ys)
    lon_span, lat_span = max(xs) - min(xs), max(ys) - min(ys)
    lat = (max(ys) + min(ys)) / 2
    # Web Mercator: 360° of longitude fill 512 px at zoom 0; fit the larger span into ~450 px.
    span = max(lon_span, lat_span / math.cos(math.radians(lat)) * 1.4, 1e-6)
    return dict(center=dict(lon=(max(xs) + min(xs)) / 2, lat=lat), zoom=math.log2(450 * 360 / (512 * span)))


def write_static(geojson: dict, folder: Path, stem: str) -> str:
    """Write the GeoJSON once as a static file (atomically: several servers may start together) and return its
    file name. Sent inline, boundaries would travel in every figure of every session; as a file the browser
    fetches them once and caches them."""
    name = f"geo-{stem}.geojson"
    target = folder / name
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(geojson, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, target)
    return name
