"""A partnership's projections.csv from read projection files, shared by the Scottish and English importers.

Each variant comes from the most detailed file that has it; published figures are kept (every year's total as
published) unless --rescale-projections asks for growth applied to the estimates; a projection based on another
year than the estimates is warned about, with both totals.
"""
from __future__ import annotations

import pandas as pd

from analytics.config import AGE_BANDS
from analytics.importers import apportion
from analytics.importers.errors import Report, ScotlandImportError
from analytics.importers.projections import Projection, choose_variants


def projection_rows(read: list[Projection], weights: pd.DataFrame, year: int, pack_name: str,
                    population: pd.DataFrame, rescale: bool, report: Report) -> pd.DataFrame:
    """projections.csv (geography = the partnership) for every variant, from the estimates' year onwards.

    `weights`: the partnership's base-year estimates, index F/M, columns single ages 0…90; `population`: the
    pack's population.csv rows (sex, age_band, population), for --rescale-projections and the base-year check.
    """
    chosen = choose_variants(read, report)
    estimates_by_band = population.groupby(["sex", "age_band"], as_index=False)["population"].sum()
    frames, published = [], {}
    for variant, projection in sorted(chosen.items()):
        cells = apportion.to_bands(projection, variant, weights)
        _check_years(cells, projection, variant, year, report)
        cells = cells[cells["year"] >= year]
        published[variant] = round(cells.loc[cells["year"] == year, "population"].sum())
        if rescale:
            cells = apportion.rescale(cells, year, estimates_by_band)
        frames.append(apportion.whole_numbers(cells).assign(geography=pack_name, variant=variant))
    _method_notes(chosen, year, rescale, report)
    out = pd.concat(frames, ignore_index=True)
    out["order"] = out["age_band"].map(AGE_BANDS.index)
    out = out.sort_values(["variant", "year", "sex", "order"]).reset_index(drop=True)
    _base_year_warning(out, chosen, published, year, population, rescale, report)
    return out[["geography", "variant", "year", "sex", "age_band", "population", "method"]]


def _check_years(cells: pd.DataFrame, projection: Projection, variant: str, year: int, report: Report) -> None:
    years = set(cells["year"])
    if year not in years:
        raise ScotlandImportError(
            f"The projections in {projection.path.name} (variant '{variant}') run {min(years)}–{max(years)} and "
            f"do not include {year}, the year of the population estimates; the dashboard needs that year. Use "
            f"projections that cover {year}, or estimates for a year the projections cover.")


def _method_notes(chosen: dict[str, Projection], year: int, rescaled: bool, report: Report) -> None:
    for projection in {id(p): p for p in chosen.values()}.values():
        variants = ", ".join(v for v, p in sorted(chosen.items()) if p is projection)
        if not projection.single_years:
            report.note(f"Projections ({variants}) from {projection.path.name} are published in age groups "
                        f"({', '.join(projection.spans)}); groups that cut across the pack's five-year bands are "
                        f"split across them in proportion to the mid-{year} estimates of this council and sex "
                        "(column method = apportioned_age…).")
        if not projection.by_sex:
            report.note(f"Projections ({variants}) from {projection.path.name} are for persons only; they are split "
                        f"into females and males by the mid-{year} estimates' sex ratio in each age band "
                        "(column method = …_sex).")
    if rescaled:
        report.note(f"--rescale-projections: each band's projection is its growth from {year} applied to the "
                    f"mid-{year} estimates, so {year} equals population.csv (method ends in _rescaled).")


def _base_year_warning(out: pd.DataFrame, chosen: dict[str, Projection], published: dict[str, int], year: int,
                       population: pd.DataFrame, rescaled: bool, report: Report) -> None:
    bases = sorted({p.base for p in chosen.values()})
    if bases == [year]:
        return
    variant = "principal" if "principal" in chosen else sorted(chosen)[0]
    rows = out[out["variant"] == variant]
    projected, estimated = published[variant], population["population"].sum()
    last = rows["year"].max()
    kept = (f"each band is rescaled so {year} equals the estimates (--rescale-projections)" if rescaled else
            f"their published figures are kept unchanged from {year} on (so published totals hold, "
            f"e.g. {variant} {last}: {rows.loc[rows['year'] == last, 'population'].sum():,}); the dashboard "
            f"compares years by growth from the projection's own {year} figure")
    report.warn(f"The projections are {'/'.join(map(str, bases))}-based but the population estimates are for "
                f"mid-{year}. For {year} the {variant} projection gives {projected:,} and the estimates "
                f"{estimated:,} ({(projected - estimated) / estimated:+.1%}); {kept}.")
    report.note(f"Projections are {'/'.join(map(str, bases))}-based; the estimates are for mid-{year}. Years "
                f"before {year} are left out; {'rescaled' if rescaled else 'published figures kept as published'}.")
