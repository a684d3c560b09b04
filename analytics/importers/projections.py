"""NRS population projections for the council → projections.csv (pack bands, F/M, one or more variants).

Published age groups that cut across the pack's five-year bands, and persons-only figures, are apportioned
over bands and sexes in proportion to the base-year estimates of the same council (see `apportion`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analytics.importers import ages
from analytics.importers.councils import normalise
from analytics.importers.errors import Report, ScotlandImportError
from analytics.importers.population import sex_code
from analytics.importers.readers import code_column, find_column, numbers, read_table, squash

WHAT = "projections file"
VALUE_NAMES = ("population", "value", "count", "people", "number", "projectedpopulation", "persons")


@dataclass
class Projection:
    """Rows: variant, year, sex (F/M/All), label, population; `spans` maps each age label to its ages."""

    rows: pd.DataFrame
    spans: dict[str, ages.Span]
    path: Path
    base: int

    @property
    def by_sex(self) -> bool:
        return bool(self.rows["sex"].isin(["F", "M"]).any())

    @property
    def single_years(self) -> bool:
        return all(len(ages.ages_of(s)) == 1 for s in self.spans.values())

    @property
    def detail(self) -> tuple[bool, bool]:
        return self.by_sex, self.single_years


def variant_code(name: str) -> str:
    """'High fertility' → 'high_fertility'; 'Principal projection' → 'principal'."""
    code = re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")
    return re.sub(r"_(variant|projection)$", "", code) or "principal"


def read_projection(path: Path, council: str, report: Report) -> Projection:
    table = read_table(path, WHAT)
    frame = _council_rows(table.frame, council, path)
    year = find_column(frame, "year")
    if year is None:
        raise ScotlandImportError(f"The {WHAT} {path} has no year column; give the projections one row per year.")
    long = _long_rows(frame, year, path, report)
    labels = {label: ages.parse_age(label) for label in long["label"].unique()}
    spans = ages.partition({k: v for k, v in labels.items() if v}, f"{WHAT} {path.name}")
    long = long[long["label"].isin(spans)]
    if long["sex"].isin(["F", "M"]).any():
        long = long[long["sex"] != "All"]
    based = re.search(r"((?:19|20)\d{2})[ _-]?based", " ".join(table.preamble + [path.name]), re.IGNORECASE)
    base = int(based[1]) if based else int(long["year"].min())
    return Projection(long.reset_index(drop=True), spans, path, base)


def _council_rows(frame: pd.DataFrame, council: str, path: Path) -> pd.DataFrame:
    """Rows for the council, found in whichever column names areas; a file without one is taken whole."""
    wanted = normalise(council)
    code = code_column(frame, "S12")
    for column in frame.columns:
        values = frame[column].astype(str).str.strip()
        hit = values.map(normalise) == wanted
        if hit.any():
            return frame[hit].reset_index(drop=True)
    if code is not None:
        raise ScotlandImportError(f"The {WHAT} {path} holds no rows for '{council}'.")
    area = next((c for c in frame.columns if squash(c) in ("area", "areaname", "council", "councilarea", "name")), None)
    if area is not None:
        names = sorted(set(frame[area].astype(str).str.strip()) - {""})
        raise ScotlandImportError(f"The {WHAT} {path} holds no rows for '{council}'; its areas: {', '.join(names)}.")
    return frame


def _long_rows(frame: pd.DataFrame, year: str, path: Path, report: Report) -> pd.DataFrame:
    """variant, year, sex, label, population — from a long table (age column) or a wide one (age columns)."""
    variant = find_column(frame, "variant") or find_column(frame, "projection", exclude=("year",))
    sex = find_column(frame, "sex") or find_column(frame, "gender")
    keys = pd.DataFrame({
        "variant": frame[variant].map(variant_code) if variant else "principal",
        "year": numbers(frame, [year], f"{WHAT} {path.name}")[year].astype(int),
        "sex": frame[sex].map(sex_code) if sex else "All"})
    if not variant:
        report.note(f"The {WHAT} {path.name} names no variant; it is taken as the principal projection.")
    if keys["sex"].isna().any():
        raise ScotlandImportError(f"The {WHAT} {path} has sex values that are not understood: "
                                  f"{sorted(set(frame.loc[keys['sex'].isna(), sex]))[:6]}; use Female/Male/Persons.")
    age_columns = [c for c in frame.columns if ages.parse_age(c) is not None and c != year]
    if len(age_columns) >= 5:
        values = numbers(frame, age_columns, f"{WHAT} {path.name}")
        wide = pd.concat([keys, values], axis=1)
        return wide.melt(id_vars=list(keys.columns), var_name="label", value_name="population")
    age = find_column(frame, "age")
    value = next((c for c in frame.columns if squash(c) in VALUE_NAMES), None)
    if age is None or value is None:
        raise ScotlandImportError(f"The {WHAT} {path} has neither age columns nor an age column with a "
                                  f"population/value column (its columns: {', '.join(map(str, frame.columns))}).")
    return keys.assign(label=frame[age].astype(str).str.strip(),
                       population=numbers(frame, [value], f"{WHAT} {path.name}")[value])


def choose_variants(projections: list[Projection], report: Report) -> dict[str, Projection]:
    """Each variant from the most detailed file that has it (by sex beats persons; single years beat groups)."""
    chosen: dict[str, Projection] = {}
    for projection in projections:
        for variant in sorted(projection.rows["variant"].unique()):
            current = chosen.get(variant)
            if current is None or projection.detail > current.detail:
                chosen[variant] = projection
    for variant, projection in sorted(chosen.items()):
        others = [p for p in projections if p is not projection and variant in set(p.rows["variant"])]
        for other in others:
            _compare_totals(variant, projection, other, report)
    return chosen


def _compare_totals(variant: str, kept: Projection, other: Projection, report: Report) -> None:
    totals = [p.rows[p.rows["variant"] == variant].groupby("year")["population"].sum() for p in (kept, other)]
    gap = ((totals[0] - totals[1]).abs() / totals[1]).dropna()
    report.note(f"Variant '{variant}' is taken from {kept.path.name} (more detailed than {other.path.name}).")
    if len(gap) and gap.max() > 0.005:
        report.warn(f"Variant '{variant}' totals differ by up to {gap.max():.1%} between {kept.path.name} and "
                    f"{other.path.name}; are they the same projection?")
