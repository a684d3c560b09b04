"""A tiny, hand-checkable area pack written by code, for tests that need exact numbers.

Two localities (North: A1, A2; South: A3, A4), 10 people in every area × sex × age band (380 per area,
1,520 in all), two activities and eight responses.
"""
from __future__ import annotations

import json
from pathlib import Path

from analytics.config import AGE_BANDS

NAME = "Tiny HSCP"
AREAS = {  # code: (locality, neighbourhood, quintile, x offset of its unit square)
    "A1": ("North", "N1", 1, 0), "A2": ("North", "N1", 2, 1),
    "A3": ("South", "N2", 4, 2), "A4": ("South", "N2", 5, 3),
}


def _square(x: float) -> list:
    lon, lat = -3.0 + x * 0.01, 56.0
    return [[[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]]


def _geojson() -> str:
    features = [{"type": "Feature", "properties": {
        "area_code": code, "area_name": f"Area {code}", "neighbourhood_code": nb, "neighbourhood_name": f"Hood {nb}",
        "locality": loc}, "geometry": {"type": "Polygon", "coordinates": _square(x)}}
        for code, (loc, nb, _, x) in AREAS.items()]
    return json.dumps({"type": "FeatureCollection", "features": features})


def _population() -> str:
    rows = [f"{a},{s},{b},10" for a in AREAS for s in "FM" for b in AGE_BANDS]
    return "area_code,sex,age_band,population\n" + "\n".join(rows) + "\n"


def _projections() -> str:
    rows = [f"{NAME},principal,{year},{s},{b},{40 * factor}"
            for year, factor in ((2024, 1), (2030, 2)) for s in "FM" for b in AGE_BANDS]
    return "geography,variant,year,sex,age_band,population\n" + "\n".join(rows) + "\n"


def projection_rows(geography: str, variant: str, by_year: dict[int, float]) -> str:
    """projections.csv rows (no header) to append to FILES["projections.csv"]: every sex and band of `geography`
    (the pack's NAME or a locality, e.g. "North") gets the year's figure."""
    return "".join(f"{geography},{variant},{year},{s},{b},{n:g}\n"
                   for year, n in by_year.items() for s in "FM" for b in AGE_BANDS)


FILES = {
    "pack.toml": f'name = "{NAME}"\ncountry = "scotland"\nbase_year = 2024\narea_label = "data zone"\n'
                 'neighbourhood_label = "intermediate zone"\ndeprivation_index = "SIMD 2020v2"\n'
                 'suppress_below = 5\nsynthetic = true\ncell_key_secret = "tiny-test-pack-6"\n',
    "deprivation.csv": "area_code,rank,decile,quintile\n" + "".join(
        f"{a},{q * 1000},{2 * q},{q}\n" for a, (_, _, q, _) in AREAS.items()),
    "communities.csv": "community,kind,locality,population,population_low,population_high,target_min,source\n"
                       "Carers,interest,North,60,50,70,,Census\nCarers,interest,South,40,30,50,,Census\n"
                       "Carers,interest,All,100,80,120,,Census\n"
                       "Gypsy/Travellers,identity,All,,,,10,Local estimate\n",
    "need_indicators.csv": "indicator,label,sex,age_band,rate,unit,source\n" + "".join(
        f"dementia,People with dementia,{s},{b},{0.1 if b in ('85-89', '90+') else 0},people,Test\n"
        for s in "FM" for b in AGE_BANDS),
    "need_gradient.csv": "indicator,quintile,relative_rate\n" + "".join(
        f"dementia,{q},{r}\n" for q, r in zip(range(1, 6), (1.5, 1.2, 1.0, 0.9, 0.8))),
    "priorities.csv": "code,label\nP1,Prevention\nP2,Carers\n",
    "activities.csv": "activity_id,title,method,partner,start_date,end_date,locality,area_code,mode,participants,"
                      "communities\nX1,Survey,online_survey,HSCP,2025-01-01,2025-02-28,All,,remote,6,\n"
                      "X2,Carers group,focus_group,Carers Centre,2025-03-05,2025-03-05,North,A1,in_person,8,Carers\n",
    "responses.csv": "response_id,activity_id,submitted_on,area_code,sex,age_band,communities,priorities\n"
                     "R1,X1,2025-01-02,A1,F,65-69,Carers,P1;P2\nR2,X1,2025-01-03,A1,F,70-74,,P1\n"
                     "R3,X1,2025-01-04,A2,M,20-24,,\nR4,X1,2025-01-05,A3,F,65-69,Carers,P2\n"
                     "R5,X1,2025-01-06,,X,,,\nR6,X1,2025-01-07,A4,M,40-44,,P1\n"
                     "R7,X2,2025-03-05,A1,F,85-89,Carers,P2\nR8,X2,2025-03-05,A2,M,85-89,Carers,P2\n",
    "areas.geojson": _geojson(),
    "population.csv": _population(),
    "projections.csv": _projections(),
}


def write_tiny_pack(path: Path, changes: dict[str, str | None] | None = None) -> Path:
    """Write the tiny pack to `path`; `changes` maps a file name to new text, or to None to leave it out."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in {**FILES, **(changes or {})}.items():
        if text is not None:
            (path / name).write_text(text, encoding="utf-8")
    return path
