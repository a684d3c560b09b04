"""Names and intermediate zones of data zones, gathered from whichever inputs hold them; areas.geojson."""
from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import shapely

from analytics.importers.errors import Report, ScotlandImportError, list_codes
from analytics.importers.readers import code_column, is_text_column, squash


def _iz_name_column(frame: pd.DataFrame) -> str | None:
    return next((c for c in frame.columns if is_text_column(frame[c])
                 and ("intzone" in squash(c) or "intermediate" in squash(c) or squash(c).startswith("iz"))), None)


def _zone_name_column(frame: pd.DataFrame) -> str | None:
    return next((c for c in frame.columns if is_text_column(frame[c]) and "name" in squash(c)
                 and ("datazone" in squash(c) or squash(c).startswith("dz") or squash(c) == "name")), None)


def _gather(frames: list[tuple[pd.DataFrame, str]], zones: set[str], column_of) -> pd.Series:
    """First value per zone over the frames (each given with its zone column) that hold the wanted column."""
    found = pd.Series(dtype=str)
    for frame, zone in frames:
        column = column_of(frame)
        if column is None:
            continue
        values = frame[[zone, column]].astype(str).apply(lambda s: s.str.strip())
        values = values[values[zone].isin(zones) & (values[column] != "")].drop_duplicates(zone)
        found = found.combine_first(values.set_index(zone)[column])
    return found


def area_table(frames: list[tuple[pd.DataFrame, str]], zones: set[str], localities: pd.Series,
               report: Report) -> pd.DataFrame:
    """area_code, area_name, neighbourhood_code, neighbourhood_name, locality for every zone."""
    codes = _gather(frames, zones, lambda f: code_column(f, "S02"))
    iz_names = _gather(frames, zones, _iz_name_column)
    names = _gather(frames, zones, _zone_name_column)
    if codes.empty and iz_names.empty:
        raise ScotlandImportError("No input file gives the intermediate zone of each data zone; add "
                                  "--geography-lookup datazone2011_geography_lookup_scotland.csv.")
    if codes.empty:
        codes = iz_names
        report.note("No intermediate zone codes (S02…) were found; their names are used as codes.")
    table = pd.DataFrame(index=pd.Index(sorted(zones), name="area_code"))
    table["area_name"] = names.reindex(table.index).fillna(pd.Series(table.index, index=table.index))
    table["neighbourhood_code"] = codes.reindex(table.index)
    missing = set(table.index[table["neighbourhood_code"].isna()])
    if missing:
        raise ScotlandImportError(f"No intermediate zone is given for {list_codes(missing)}; use a geography "
                                  "lookup that covers every 2011 data zone.")
    iz_name_by_code = _iz_names_by_code(iz_names, codes)
    table["neighbourhood_name"] = table["neighbourhood_code"].map(iz_name_by_code).fillna(table["neighbourhood_code"])
    table["locality"] = localities.reindex(table.index)
    return table.reset_index()


def _iz_names_by_code(iz_names: pd.Series, codes: pd.Series) -> pd.Series:
    pairs = pd.DataFrame({"code": codes, "name": iz_names.reindex(codes.index)}).dropna()
    return pairs.drop_duplicates("code").set_index("code")["name"]


def geojson_text(areas: pd.DataFrame, geometry: gpd.GeoSeries) -> str:
    """A compact FeatureCollection, features in area_code order, properties in the contract's order."""
    features = []
    for row in areas.sort_values("area_code").itertuples(index=False):
        geom = json.loads(shapely.to_geojson(geometry.loc[row.area_code]))
        features.append({"type": "Feature", "properties": row._asdict(), "geometry": geom})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      separators=(",", ":")) + "\n"
