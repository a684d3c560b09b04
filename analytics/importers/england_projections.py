"""ONS subnational population projections (SNPP) per district → the pack's projections.csv.

ONS publishes "2018 SNPP Population females.csv" / "males.csv" / "persons.csv" (and the 2022-based files in the
same layout): AREA_CODE, AREA_NAME, COMPONENT ("Population"), SEX, AGE_GROUP ("0" … "89", "90 and over",
"All ages") and one column per year. The partnership's projection is the sum of its districts'. The build
shares it over small areas by the ratio method (each LSOA's share of the base-year residents of its sex and
band); where the localities are the districts, each district's own projection is written too (geography =
the locality) so each locality follows its own district's projection.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analytics.config import AGE_BANDS
from analytics.importers import ages, apportion
from analytics.importers.errors import PackImportError, Report, list_codes
from analytics.importers.population import sex_code
from analytics.importers.projections import Projection, variant_code
from analytics.importers.readers import find_column, numbers, read_table, squash

WHAT = "projections file"


def parse_spec(text: str) -> tuple[str, Path]:
    """'FILE' → principal; 'high_migration=FILE' → that variant (ONS publishes variants as same-named files)."""
    name, sep, path = text.partition("=")
    if sep and not Path(text).exists() and re.fullmatch(r"[A-Za-z][\w -]*", name):
        return variant_code(name), Path(path)
    return "principal", Path(text)


def read_snpp(path: Path, variant: str, districts: set[str]) -> pd.DataFrame:
    """Rows: district, variant, year, sex (F/M/All), label, population — for the partnership's districts."""
    frame = read_table(path, WHAT).frame
    code = next((c for c in frame.columns if squash(c) in ("areacode", "code", "ladcode", "ladcd")), None) \
        or find_column(frame, "code")
    sex, age = find_column(frame, "sex"), find_column(frame, "age")
    years = [c for c in frame.columns if re.fullmatch(r"(19|20)\d{2}", str(c).strip())]
    if code is None or sex is None or age is None or not years:
        raise PackImportError(f"The {WHAT} {path} is not in the ONS SNPP layout (AREA_CODE, AREA_NAME, COMPONENT, "
                              f"SEX, AGE_GROUP and one column per year); its columns: "
                              f"{', '.join(map(str, frame.columns[:10]))}.")
    component = find_column(frame, "component")
    if component is not None:
        frame = frame[frame[component].str.strip().str.lower() == "population"]
    frame = frame[frame[code].str.strip().isin(districts)].reset_index(drop=True)
    missing = districts - set(frame[code].str.strip())
    if missing:
        raise PackImportError(f"The {WHAT} {path} has no rows for the partnership's district(s) "
                              f"{list_codes(missing)}; use the file for all of England (or these districts).")
    sexes = frame[sex].map(sex_code)
    if sexes.isna().any():
        row = int(sexes.index[sexes.isna()][0])
        raise PackImportError(f"The {WHAT} {path}, row {row + 2}, column '{sex}': '{frame.at[row, sex]}' is not "
                              "understood; use females, males or persons.")
    values = numbers(frame, years, f"{WHAT} {path.name}")
    keys = pd.DataFrame({"district": frame[code].str.strip(), "sex": sexes, "label": frame[age].str.strip()})
    long = pd.concat([keys, values], axis=1).melt(id_vars=list(keys.columns), var_name="year",
                                                   value_name="population")
    long["year"] = long["year"].astype(int)
    return long[long["label"].map(ages.parse_age).notna()].assign(variant=variant)


def projections(specs: list[str], districts: set[str]) -> dict[str | None, list[Projection]]:
    """One Projection per variant for the partnership (key None) and for each district (key its code)."""
    rows, paths = [], {}
    for spec in specs:
        variant, path = parse_spec(spec)
        rows.append(read_snpp(path, variant, districts))
        paths.setdefault(variant, path)
    every = pd.concat(rows, ignore_index=True)
    out: dict[str | None, list[Projection]] = {None: []}
    for variant, part in every.groupby("variant"):
        if part["sex"].isin(["F", "M"]).any():  # females.csv and males.csv beat persons.csv
            part = part[part["sex"] != "All"]
        path = paths[variant]
        based = re.search(r"((?:19|20)\d{2})[ _-]?(?:based|snpp)", path.name, re.IGNORECASE)
        base = int(based[1]) if based else int(part["year"].min())
        spans = ages.partition({lab: ages.parse_age(lab) for lab in part["label"].unique()}, f"{WHAT} {path.name}")
        part = part[part["label"].isin(spans)]
        cols = ["variant", "year", "sex", "label"]
        out[None].append(Projection(part.groupby(cols, as_index=False)["population"].sum(), spans, path, base))
        for district, own in part.groupby("district"):
            out.setdefault(district, []).append(Projection(own[cols + ["population"]].reset_index(drop=True),
                                                           spans, path, base))
    return out


def locality_rows(own: list[Projection], weights: pd.DataFrame, year: int, locality: str) -> pd.DataFrame:
    """A district's own projection as the locality's rows (geography = locality), from the estimates' year on."""
    frames = []
    for projection in own:
        for variant in sorted(projection.rows["variant"].unique()):
            cells = apportion.to_bands(projection, variant, weights)
            cells = cells[cells["year"] >= year]
            frames.append(apportion.whole_numbers(cells).assign(geography=locality, variant=variant))
    return pd.concat(frames, ignore_index=True)


def held_flat(population: pd.DataFrame, year: int, years: int, pack_name: str, report: Report) -> pd.DataFrame:
    """--no-projections: the base-year population repeated, method held_flat, said loudly (not a projection)."""
    by = population.groupby(["sex", "age_band"], as_index=False)["population"].sum()
    frames = [by.assign(year=y) for y in range(year, year + years + 1)]
    out = pd.concat(frames, ignore_index=True).assign(geography=pack_name, variant="principal", method="held_flat")
    report.warn(f"--no-projections: there is no projection; the mid-{year} population is held flat to "
                f"{year + years} so the pages run. Projected need shows no change. Give the ONS SNPP files with "
                "--projections to project.")
    report.note(f"No population projection was given (--no-projections): projections.csv holds the mid-{year} "
                f"estimates unchanged for {year}–{year + years} (method held_flat). Projected need and growth are "
                "not projections; give the ONS subnational projections to replace them.")
    return out


def sort_rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(order=frame["age_band"].map(AGE_BANDS.index))
    frame = frame.sort_values(["geography", "variant", "year", "sex", "order"]).reset_index(drop=True)
    return frame[["geography", "variant", "year", "sex", "age_band", "population", "method"]]
