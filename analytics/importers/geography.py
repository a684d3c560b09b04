"""Boundaries, localities and intermediate zones → the pack's areas.geojson.

Boundaries in any CRS are simplified as a coverage in metres (British National Grid), so neighbouring data
zones keep one shared edge, then put into EPSG:4326 with coordinates rounded to 5 decimals (about 1 m).
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics.importers.errors import Report, ScotlandImportError, list_codes
from analytics.importers.readers import Table, code_column, is_text_column, read_table, squash

METRIC_CRS = "EPSG:27700"
DECIMALS = 5
LOCALITY_NAMES = ("hscplocality", "localityname", "locality", "hscplocalityname", "localityname2022")
NOT_LOCALITY = ("point", "second", "code", "share", "confidence", "hscpname")


def read_boundaries(path: Path, report: Report, prefix: str = "S01",
                    zone_word: str = "data zone") -> tuple[gpd.GeoDataFrame, str]:
    """The boundaries (GeoJSON, shapefile, GeoPackage) and the name of their small-area code column (codes
    `prefix`…: S01 data zones, E01 LSOAs)."""
    if not Path(path).exists():
        raise ScotlandImportError(f"The boundaries file {path} does not exist; check the path.")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise ScotlandImportError(f"The boundaries file {path} cannot be read ({exc}); give a GeoJSON, "
                                  "shapefile (.shp with its .dbf, .shx, .prj) or GeoPackage.") from exc
    zone = code_column(pd.DataFrame(frame.drop(columns="geometry")), prefix)
    if zone is None:
        raise ScotlandImportError(f"The boundaries file {path} has no property holding {zone_word} codes ({prefix}…); "
                                  f"its properties: {', '.join(c for c in frame.columns if c != 'geometry')}.")
    frame[zone] = frame[zone].astype(str).str.strip()
    if frame.crs is None:
        frame = frame.set_crs(_guess_crs(frame, path, report))
    return frame, zone


def _guess_crs(frame: gpd.GeoDataFrame, path: Path, report: Report) -> str:
    minx, miny, maxx, maxy = frame.total_bounds
    crs = "EPSG:4326" if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90 else METRIC_CRS
    report.warn(f"The boundaries file {path.name} does not say its coordinate system; taking it as {crs} "
                "from the coordinates (add the .prj file to be sure).")
    return crs


def display_geometry(frame: gpd.GeoDataFrame, zone: str, tolerance: float, report: Report) -> gpd.GeoSeries:
    """One simplified, valid, lon/lat (Multi)Polygon per zone, indexed by zone code."""
    frame = frame[[zone, "geometry"]].dissolve(by=zone) if frame[zone].duplicated().any() else frame.set_index(zone)
    metric = frame.geometry.to_crs(METRIC_CRS)
    values = metric.to_numpy()
    if tolerance > 0:
        if shapely.coverage_is_valid(values):
            values = shapely.coverage_simplify(values, tolerance)
        else:
            report.warn("The boundaries overlap or leave slivers between neighbours, so they are simplified one "
                        "by one (shared edges may not match exactly on the map).")
            values = shapely.simplify(values, tolerance, preserve_topology=True)
    lonlat = gpd.GeoSeries(values, index=metric.index, crs=METRIC_CRS).to_crs("EPSG:4326").to_numpy()
    rounded = shapely.transform(lonlat, lambda xy: np.round(xy, DECIMALS))
    return gpd.GeoSeries(_valid_polygons(rounded), index=metric.index, crs="EPSG:4326")


def _valid_polygons(values: np.ndarray) -> np.ndarray:
    """Rounding can pinch a ring; repair those and keep only their polygonal parts, outer rings anticlockwise."""
    bad = ~shapely.is_valid(values)
    if bad.any():
        fixed = shapely.make_valid(values[bad])
        values[bad] = [shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type in ("Polygon",
                                                                                                "MultiPolygon")])
                       for g in fixed]
    return shapely.orient_polygons(values, exterior_cw=False)


def read_localities(path: Path, prefix: str = "S01", zone_word: str = "data zone") -> tuple[pd.DataFrame, Table]:
    """Small area → locality: the code column (`prefix`…: S01 data zones, E01 LSOAs) and the locality name
    column, whatever they are called."""
    table = read_table(path, "locality lookup")
    frame = table.frame
    zone = code_column(frame, prefix)
    if zone is None:
        raise ScotlandImportError(f"The locality lookup {path} has no column of {zone_word} codes ({prefix}…).")
    locality = _locality_column(frame, zone, path)
    out = pd.DataFrame({"area_code": frame[zone].str.strip(), "locality": frame[locality].str.strip()})
    return out.drop_duplicates(), table


def _locality_column(frame: pd.DataFrame, zone: str, path: Path) -> str:
    text = [c for c in frame.columns if c != zone and is_text_column(frame[c])]
    for wanted in LOCALITY_NAMES:
        hit = next((c for c in text if squash(c) == wanted), None)
        if hit:
            return hit
    named = [c for c in text if "locality" in squash(c) and not any(x in squash(c) for x in NOT_LOCALITY)]
    if named or len(text) == 1:
        return (named or text)[0]
    raise ScotlandImportError(f"Cannot tell which column of the locality lookup {path} holds the locality names; "
                              f"name it 'locality' (its text columns: {', '.join(text) or 'none'}).")


def locality_of(lookup: pd.DataFrame, zones: set[str], path: Path) -> pd.Series:
    """Locality per zone of the council; a zone in two localities or with none stops the import."""
    rows = lookup[lookup["area_code"].isin(zones)]
    doubled = set(rows.loc[rows["area_code"].duplicated(), "area_code"])
    blank = set(rows.loc[rows["locality"] == "", "area_code"])
    if doubled or blank:
        which = doubled or blank
        raise ScotlandImportError(f"The locality lookup {path} gives {'two localities' if doubled else 'no locality'} "
                                  f"for {list_codes(which)}; each data zone needs exactly one.")
    return rows.set_index("area_code")["locality"]
