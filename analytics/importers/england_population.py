"""ONS small area population estimates per LSOA → the pack's population.csv, with the method on every row.

ONS publishes LSOA estimates by single year of age for persons, females and males; some releases (and some
downloads) give persons only. Persons are then split into females and males by a published sex ratio: the
Census 2021 females and males of the LSOA's district in the same broad age group (0–15, 16–64, 65+), so each
row says `published` (the file gave the sex) or `apportioned_sex` (split by the census district ratio).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.config import AGE_BANDS
from analytics.importers import ages
from analytics.importers.england_areas import DISTRICT
from analytics.importers.errors import PackImportError, Report, list_codes
from analytics.importers.population import Estimates
from analytics.importers.readers import code_column, numbers, read_table, squash

WHAT = "census sex table"
GROUP_WORDS = {"younger": (0, 15), "child": (0, 15), "workingage": (16, 64), "older": (65, None)}


def read_sex_ratios(path: Path) -> pd.DataFrame:
    """Female share per district (index district code) and single age 0…90 (columns), from a table of females and
    males per district by age group (Census 2021: younger 0–15, working age 16–64, older 65+, or age labels)."""
    table = read_table(path, WHAT)
    frame = table.frame
    district = code_column(frame, DISTRICT)
    if district is None:
        raise PackImportError(f"The {WHAT} {path} has no column of district codes (E06/E07/E08/E09…).")
    spans: dict[tuple[str, tuple[int, int | None]], str] = {}
    for column in frame.columns:
        found = _sex_and_span(column)
        if found:
            spans[found] = column
    groups = sorted({span for _, span in spans})
    missing = [f"{'females' if s == 'F' else 'males'} {lo}–{hi if hi is not None else ''}" for lo, hi in groups
               for s in ("F", "M") if (s, (lo, hi)) not in spans]
    if not groups or missing:
        raise PackImportError(f"The {WHAT} {path} needs females and males in each age group (e.g. younger_females, "
                              f"younger_males …); {'missing: ' + ', '.join(missing) if missing else 'none found'}.")
    chosen = ages.partition({f"{lo}-{hi}" if hi is not None else f"{lo}+": (lo, hi) for lo, hi in groups},
                            f"{WHAT} {path.name}")
    counts = numbers(frame, list(spans.values()), f"{WHAT} {path.name}")
    share = np.zeros((len(frame), ages.TOP_AGE + 1))
    for span in chosen.values():
        f, m = counts[spans[("F", span)]].to_numpy(), counts[spans[("M", span)]].to_numpy()
        share[:, ages.ages_of(span)] = np.where(f + m > 0, f / np.where(f + m > 0, f + m, 1), 0.5)[:, None]
    return pd.DataFrame(share, index=pd.Index(frame[district].str.strip(), name="district"), columns=ages.AGES)


def _sex_and_span(column: str) -> tuple[str, tuple[int, int | None]] | None:
    name = squash(column)
    sex = "F" if "female" in name else "M" if "male" in name else None
    if sex is None or "total" in name:
        return None
    rest = re.sub(r"(fe)?males?", "", name)
    span = next((s for word, s in GROUP_WORDS.items() if word in rest), None)
    if span is None:
        span = ages.parse_age(re.sub(r"(?i)(fe)?males?", " ", str(column)).strip(" _-"))
    return (sex, span) if span else None


def split_by_sex(persons: pd.DataFrame, district: pd.Series, ratios: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Rows (area_code, sex F/M/All) × ages 0…90 from persons per LSOA (index) × ages, by district ratios."""
    unknown = set(district.reindex(persons.index)) - set(ratios.index)
    if unknown:
        raise PackImportError(f"The {WHAT} {path.name} has no row for district(s) {list_codes(unknown)}; use the "
                              "Census 2021 table for every district of the partnership.")
    female = persons.to_numpy() * ratios.loc[district.reindex(persons.index)].to_numpy()
    parts = {"F": female, "M": persons.to_numpy() - female, "All": persons.to_numpy()}
    frames = [pd.DataFrame(v, index=pd.MultiIndex.from_arrays([persons.index, [s] * len(persons)],
                                                              names=["area_code", "sex"]), columns=ages.AGES)
              for s, v in parts.items()]
    return pd.concat(frames).sort_index()


def population_rows(estimates: Estimates, zones: set[str], split: bool) -> pd.DataFrame:
    """population.csv with `method`: each LSOA × band keeps its persons total exactly; females are rounded and
    males are the rest, so the partnership total is the published one."""
    single = estimates.of(zones)
    banded = single.T.groupby(ages.BAND_OF_AGE).sum().T
    banded.columns = pd.Index([AGE_BANDS[i] for i in banded.columns], name="age_band")
    female = banded.xs("F", level="sex")
    if "All" in set(single.index.get_level_values("sex")):
        persons = _whole(banded.xs("All", level="sex"))
    else:
        persons = _whole(female + banded.xs("M", level="sex"))
    female = np.minimum(np.rint(female), persons)
    method = "apportioned_sex" if split else "published"
    frames = [frame.stack().rename("population").reset_index().assign(sex=sex)
              for sex, frame in (("F", female), ("M", persons - female))]
    long = pd.concat(frames, ignore_index=True)
    long["population"] = long["population"].astype(int)
    long["method"] = method
    long["order"] = long["age_band"].map(ages.band_order)
    long = long.sort_values(["area_code", "sex", "order"]).reset_index(drop=True)
    return long[["area_code", "sex", "age_band", "population", "method"]]


def _whole(cells: pd.DataFrame) -> pd.DataFrame:
    """Whole people per cell keeping the grand total: estimates moved from split LSOAs are fractional, and
    rounding each cell alone would drift the partnership's total; the largest remainders take the spare people."""
    values = cells.to_numpy(dtype=float)
    floor = np.floor(values + 1e-9)
    short = int(round(values.sum())) - int(floor.sum())
    order = np.argsort(-(values - floor), axis=None, kind="stable")[:max(short, 0)]
    flat = floor.ravel()
    flat[order] += 1
    return pd.DataFrame(flat.reshape(values.shape), index=cells.index, columns=cells.columns)
