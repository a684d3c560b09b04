"""Small area population estimates → single years per data zone and sex, and the pack's population.csv."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.config import AGE_BANDS
from analytics.importers import ages
from analytics.importers.errors import Report, ScotlandImportError, list_codes
from analytics.importers.readers import Table, code_column, find_column, numbers, read_table, squash, year_from_text

WHAT = "population estimates file"
SEX_WORDS = {"f": "F", "female": "F", "females": "F", "women": "F", "2": "F",
             "m": "M", "male": "M", "males": "M", "men": "M", "1": "M",
             "all": "All", "persons": "All", "all persons": "All", "all people": "All", "total": "All",
             "people": "All", "both": "All", "both sexes": "All", "0": "All"}


@dataclass
class Estimates:
    """`single`: rows (area_code, sex F/M/All), columns ages 0…90 (90 = 90+); exact when `single_years`."""

    single: pd.DataFrame
    single_years: bool
    table: Table

    def of(self, zones: set[str], sex: str | None = None) -> pd.DataFrame:
        rows = self.single.index.get_level_values(0).isin(zones)
        if sex:
            rows &= self.single.index.get_level_values(1) == sex
        return self.single[rows]


def sex_code(value: str) -> str | None:
    return SEX_WORDS.get(str(value).strip().lower())


def read_estimates(path: Path, report: Report, prefix: str = "S01", zone_word: str = "data zone",
                   persons_ok: bool = False) -> Estimates:
    """Estimates per small area (codes `prefix`…, e.g. S01 data zones or E01 LSOAs). `persons_ok`: a file with
    no sex column is read as persons ('All') for the caller to split by sex (England's ONS estimates)."""
    table = read_table(path, WHAT)
    frame = table.frame
    zone = code_column(frame, prefix)
    if zone is None:
        raise ScotlandImportError(f"The {WHAT} {path} has no column of {zone_word} codes ({prefix}…); "
                                  f"its columns: {', '.join(map(str, frame.columns[:15]))}.")
    sex = find_column(frame, "sex") or find_column(frame, "gender")
    if sex is None and persons_ok:
        frame = frame.assign(sex="All")
        sex = "sex"
    if sex is None:
        raise ScotlandImportError(f"The {WHAT} {path} has no sex column (Female/Male); the pack needs "
                                  "estimates by sex. Download the tables for females and males.")
    wide = _wide_ages(frame, zone, sex, path)
    single, exact = _to_single_years(wide, path)
    _check_totals(frame, zone, sex, single, report)
    if not persons_ok:
        _check_sexes(single, report)
    return Estimates(single, exact, table)


def _wide_ages(frame: pd.DataFrame, zone: str, sex: str, path: Path) -> pd.DataFrame:
    """Index (area_code, sex F/M/All); one numeric column per published age label."""
    sexes = frame[sex].map(sex_code)
    unknown = sorted(set(frame.loc[sexes.isna(), sex]))
    if unknown:
        raise ScotlandImportError(f"The {WHAT} {path} has sex values that are not understood: "
                                  f"{', '.join(map(repr, unknown[:8]))}; use Female, Male or All.")
    age_columns = [c for c in frame.columns if ages.parse_age(c) is not None]
    keys = pd.MultiIndex.from_arrays([frame[zone].str.strip(), sexes], names=["area_code", "sex"])
    if len(age_columns) >= 10:
        wide = numbers(frame, age_columns, f"{WHAT} {path.name}").set_axis(keys)
    else:
        wide = _pivot_long(frame, keys, path)
    if wide.index.duplicated().any():
        dup = {f"{a} {s}" for a, s in wide.index[wide.index.duplicated()]}
        raise ScotlandImportError(f"The {WHAT} {path} repeats data zone × sex rows ({list_codes(dup)}); "
                                  "give one year's estimates only.")
    return wide


def _pivot_long(frame: pd.DataFrame, keys: pd.MultiIndex, path: Path) -> pd.DataFrame:
    """Long layout: one row per zone × sex × age with an age column and a count column."""
    age = find_column(frame, "age")
    value = next((c for c in frame.columns if squash(c) in ("population", "value", "count", "people", "number")),
                 None)
    if age is None or value is None:
        raise ScotlandImportError(f"The {WHAT} {path} has neither age columns (0, 1, … 90+ or age_0_4 … "
                                  "age_90plus) nor an age column with a population/value column.")
    counts = numbers(frame, [value], f"{WHAT} {path.name}")[value]
    long = pd.DataFrame({"key": list(keys), "age": frame[age].astype(str).str.strip(), "n": counts.to_numpy()})
    long = long[long["age"].map(ages.parse_age).notna()]
    wide = long.pivot_table(index="key", columns="age", values="n", aggfunc="sum", fill_value=0)
    wide.index = pd.MultiIndex.from_tuples(wide.index, names=["area_code", "sex"])
    return wide


def _to_single_years(wide: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, bool]:
    """Finest age partition → ages 0…90; five-year bands are spread evenly over their years."""
    spans = ages.partition({c: ages.parse_age(c) for c in wide.columns if ages.parse_age(c)}, f"{WHAT} {path.name}")
    single = np.zeros((len(wide), ages.TOP_AGE + 1))
    for label, span in spans.items():
        if ages.band_of(span) is None:
            raise ScotlandImportError(f"The {WHAT} {path} gives ages as '{label}', which cuts across the pack's "
                                      "five-year bands; download single years of age or five-year bands.")
        covered = ages.ages_of(span)
        single[:, covered] += wide[label].to_numpy()[:, None] / len(covered)
    exact = all(len(ages.ages_of(s)) == 1 for s in spans.values())
    return pd.DataFrame(single, index=wide.index, columns=ages.AGES), exact


def _check_totals(frame: pd.DataFrame, zone: str, sex: str, single: pd.DataFrame, report: Report) -> None:
    total = next((c for c in frame.columns if squash(c) in ("totalpopulation", "allages", "total", "allpeople")),
                 None)
    if total is None:
        return
    keys = pd.MultiIndex.from_arrays([frame[zone].str.strip(), frame[sex].map(sex_code)])
    stated = pd.Series(numbers(frame, [total], WHAT)[total].to_numpy(), index=keys)
    if stated.index.duplicated().any():
        return  # a long layout repeats the total on every age row
    off = (stated.reindex(single.index) - single.sum(axis=1)).abs() > 0.5
    if off.any():
        codes = {f"{a} {s}" for (a, s) in single.index[off.to_numpy()]}
        report.warn(f"In the {WHAT}, the ages do not add up to the '{total}' column for {list_codes(codes)}; "
                    "the ages are used.")


def _check_sexes(single: pd.DataFrame, report: Report) -> None:
    """Female + male must equal the 'All' rows where the file has them."""
    sexes = set(single.index.get_level_values("sex"))
    if not {"F", "M"} <= sexes:
        raise ScotlandImportError(f"The {WHAT} has no rows for both females and males (found: "
                                  f"{', '.join(sorted(sexes))}); the pack needs estimates by sex.")
    if "All" not in sexes:
        return
    by = {s: single.xs(s, level="sex") for s in ("F", "M", "All")}
    both = by["F"].add(by["M"], fill_value=0).reindex(by["All"].index)
    off = (both - by["All"]).abs().max(axis=1) > 0.5
    if off.any():
        report.warn(f"In the {WHAT}, female + male differs from 'All' for {int(off.sum())} data zone(s) "
                    f"({list_codes(set(off.index[off]))}); females and males are used, 'All' is dropped.")


def population_rows(estimates: Estimates, zones: set[str]) -> pd.DataFrame:
    """population.csv: every zone × F/M × band, whole numbers (bands of single years are exact sums)."""
    single = estimates.of(zones)
    single = single[single.index.get_level_values("sex").isin(["F", "M"])]
    banded = single.T.groupby(ages.BAND_OF_AGE).sum().T
    banded.columns = pd.Index([AGE_BANDS[i] for i in banded.columns], name="age_band")
    long = banded.stack().rename("population").reset_index()
    long["population"] = np.rint(long["population"]).astype(int)
    long["order"] = long["age_band"].map(ages.band_order)
    return long.sort_values(["area_code", "sex", "order"]).drop(columns="order").reset_index(drop=True)


def base_year(estimates: Estimates, given: int | None, path: Path) -> int:
    """--base-year, else a year column with one value, else a year in the titles or the file name."""
    if given:
        return given
    frame = estimates.table.frame
    column = find_column(frame, "year")
    if column is not None and frame[column].nunique() == 1 and str(frame[column].iloc[0]).strip().isdigit():
        return int(str(frame[column].iloc[0]).strip())
    year = year_from_text(estimates.table.preamble + [path.stem])
    if year is None:
        raise ScotlandImportError(f"Cannot tell which year the {WHAT} {path.name} is for (no year column, title "
                                  "or year in the file name); give it with --base-year, e.g. --base-year 2020.")
    return year
