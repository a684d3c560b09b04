"""Who needs care now and in future: population, deprivation, projections and projected need.

Every function takes the store first and returns a tidy DataFrame (columns named in the docstring).
`locality="All"` means the whole partnership.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import config
from analytics.db import Store

ALL = config.ALL_LOCALITIES
AGE_GROUPS = ("0-14", "15-64", "65-74", "75-84", "85+")
_AGE_GROUP_EDGES = (-1, 14, 64, 74, 84, 200)


def _in_locality(frame: pd.DataFrame, locality: str) -> pd.DataFrame:
    return frame if locality == ALL else frame[frame["locality"] == locality]


def _lower(bands: pd.Series) -> pd.Series:
    return bands.map(config.band_lower)


def pyramid(con: Store, locality: str = ALL) -> pd.DataFrame:
    """Columns: sex, age_band, population, share (% of the locality), partnership_share (% of the partnership)."""
    base = con.query("population_by_band")
    whole = base.groupby(["sex", "age_band"], as_index=False)["population"].sum()
    whole["partnership_share"] = 100 * whole["population"] / whole["population"].sum()
    local = _in_locality(base, locality).groupby(["sex", "age_band"], as_index=False)["population"].sum()
    local["share"] = 100 * local["population"] / local["population"].sum()
    out = local.merge(whole[["sex", "age_band", "partnership_share"]], on=["sex", "age_band"])
    return _band_order(out)


def _band_order(frame: pd.DataFrame) -> pd.DataFrame:
    order = {b: i for i, b in enumerate(config.AGE_BANDS)}
    return frame.sort_values(["sex", "age_band"], key=lambda s: s.map(order) if s.name == "age_band" else s,
                             ignore_index=True)


def age_summary(con: Store) -> pd.DataFrame:
    """One row per locality and one for the partnership ('All'). Columns: locality, residents, aged_65, aged_75,
    aged_85 (counts), share_65, share_75, share_85 (%), dependency_ratio (0–14 and 65+ per 100 aged 15–64)."""
    base = con.query("population_by_band")
    frame = pd.concat([base, base.assign(locality=ALL)])
    lower = _lower(frame["age_band"])
    parts = {"residents": lower >= 0, "aged_65": lower >= 65, "aged_75": lower >= 75, "aged_85": lower >= 85,
             "young": lower < 15, "working": (lower >= 15) & (lower < 65)}
    counts = pd.DataFrame({k: frame["population"].where(m, 0) for k, m in parts.items()}).groupby(
        frame["locality"]).sum()
    for age in (65, 75, 85):
        counts[f"share_{age}"] = 100 * counts[f"aged_{age}"] / counts["residents"]
    counts["dependency_ratio"] = 100 * (counts["young"] + counts["aged_65"]) / counts["working"]
    return counts.drop(columns=["young", "working"]).reset_index()


def deprivation_profile(con: Store) -> pd.DataFrame:
    """Columns: locality (with 'All'), quintile (1 = most deprived), population, share (% of the locality)."""
    frame = con.query("deprivation_by_locality")
    whole = frame.groupby("quintile", as_index=False)["population"].sum().assign(locality=ALL)
    frame = pd.concat([frame, whole], ignore_index=True)
    frame["share"] = 100 * frame["population"] / frame.groupby("locality")["population"].transform("sum")
    return frame[["locality", "quintile", "population", "share"]]


def area_deprivation(con: Store, locality: str = ALL) -> pd.DataFrame:
    """One row per small area (of `locality`): area_code, area_name, neighbourhood_name, locality, residents,
    rank, decile, quintile, and any <domain>_rank columns the pack has."""
    return _in_locality(con.query("area_deprivation"), locality)


def variants(con: Store) -> pd.DataFrame:
    """Columns: variant, first_year, last_year (principal first)."""
    return con.query("projection_variants")


def projection(con: Store, locality: str = ALL, variant: str = "principal") -> pd.DataFrame:
    """Ratio-method projection: small areas' shares of the partnership's projection (or of the locality's own,
    where the pack publishes one), summed. Columns: year, sex, age_band, population (fractional people)."""
    return con.query("projection_by_band", locality=locality, variant=variant)


def projection_by_age_group(con: Store, locality: str = ALL, variant: str = "principal") -> pd.DataFrame:
    """Columns: year, age_group (0-14, 15-64, 65-74, 75-84, 85+), population, index (base year = 100)."""
    frame = projection(con, locality, variant)
    frame["age_group"] = pd.cut(_lower(frame["age_band"]), _AGE_GROUP_EDGES, labels=AGE_GROUPS).astype(str)
    grouped = frame.groupby(["year", "age_group"], as_index=False)["population"].sum()
    first = grouped[grouped["year"] == grouped["year"].min()].set_index("age_group")["population"]
    grouped["index"] = 100 * grouped["population"] / grouped["age_group"].map(first)
    return grouped


def growth(con: Store, year: int, locality: str = ALL, variant: str = "principal", min_age: int = 75) -> dict:
    """Residents aged `min_age`+ in the base year and `year`: {'base', 'projected', 'growth' (%)}."""
    frame = projection(con, locality, variant)
    old = frame[_lower(frame["age_band"]) >= min_age].groupby("year")["population"].sum()
    base = float(old.iloc[0])
    projected = float(old.get(year, np.nan))
    return {"base": base, "projected": projected, "growth": 100 * (projected / base - 1)}


def indicators(con: Store) -> pd.DataFrame:
    """Columns: indicator, label, unit, source."""
    return con.query("indicators")


def need_by_area(con: Store, indicator: str, year: int, variant: str = "principal",
                 locality: str = ALL) -> pd.DataFrame:
    """The small areas of `locality`. Columns: area_code, area_name, neighbourhood_code, locality, population,
    expected, need_per_1000, need_index (100 = the whole partnership, whatever `locality`)."""
    frame = con.query("need_by_area", indicator=indicator, year=year, variant=variant)
    frame["need_per_1000"] = 1000 * frame["expected"] / frame["population"]
    overall = 1000 * frame["expected"].sum() / frame["population"].sum()
    frame["need_index"] = 100 * frame["need_per_1000"] / overall if overall else np.nan
    return _in_locality(frame, locality)


def need_table(con: Store, year: int, locality: str = ALL, variant: str = "principal",
               base_year: int | None = None) -> pd.DataFrame:
    """Projected need for every indicator. Columns: indicator, label, base (expected in the base year),
    projected (in `year`), change (people), growth (%)."""
    base_year = base_year or int(variants(con)["first_year"].min())
    frame = con.query("need_by_locality", variant=variant, base_year=base_year, year=year)
    frame = _in_locality(frame, locality).groupby(["indicator", "year"])["expected"].sum().unstack("year")
    out = pd.DataFrame({"base": frame[base_year], "projected": frame[year]}).reset_index()
    out["change"] = out["projected"] - out["base"]
    out["growth"] = 100 * out["change"] / out["base"]
    return indicators(con)[["indicator", "label"]].merge(out, on="indicator")


def projected_pyramid(con: Store, year: int, locality: str = ALL, variant: str = "principal") -> pd.DataFrame:
    """Columns: sex, age_band, population, share (% of the locality's projected residents in `year`)."""
    frame = projection(con, locality, variant)
    frame = frame[frame["year"] == year].copy()
    frame["share"] = 100 * frame["population"] / frame["population"].sum()
    return _band_order(frame[["sex", "age_band", "population", "share"]])
