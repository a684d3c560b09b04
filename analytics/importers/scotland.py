"""Published Scottish open data → an area pack for one council / HSCP.

    python -m analytics.importers.scotland --council "North Lanarkshire" \\
        --boundaries DZ.geojson --simd SIMD.csv --population SAPE.csv --projections PROJ.csv \\
        --localities LOOKUP.csv --geography-lookup GEO.csv --out data/north-lanarkshire

Exit status 0 when the pack was written, 2 when the input cannot make a pack (nothing is written then).
See the README (section "Importing a Scottish partnership from published open data") for where each file is
published.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analytics.config import AGE_BANDS, DEFAULT_SUPPRESS_BELOW
from analytics.importers import apportion, communities as comm
from analytics.importers.areas import area_table, geojson_text
from analytics.importers.councils import Source, check_coverage, resolve
from analytics.importers.deprivation import Simd, read_simd
from analytics.importers.errors import MAX_CODES_LISTED, Report, ScotlandImportError
from analytics.importers.geography import display_geometry, locality_of, read_boundaries, read_localities
from analytics.importers.output import staged, toml_text, write_csv, write_ledger_headers
from analytics.importers.population import Estimates, base_year, population_rows, read_estimates
from analytics.importers.projections import Projection, choose_variants, read_projection
from analytics.importers.readers import Table, code_column, read_table
from analytics.pack import file_problems


@dataclass
class Options:
    council: str
    boundaries: Path
    simd: Path
    population: Path
    projections: list[Path]
    localities: Path
    out: Path
    geography_lookup: Path | None = None
    communities: Path | None = None
    need_indicators: Path | None = None
    base_year: int | None = None
    simplify: float = 10.0
    rescale_projections: bool = False
    name: str | None = None


@dataclass
class Inputs:
    """Everything read, before it is cut down to the council."""

    estimates: Estimates
    simd: Simd
    boundaries: pd.DataFrame
    zone: str
    lookup: pd.DataFrame
    lookup_table: Table
    geography: Table | None = None


def read_inputs(o: Options, report: Report) -> Inputs:
    with report.step("reading population estimates"):
        estimates = read_estimates(o.population, report)
    with report.step("reading SIMD"):
        simd = read_simd(o.simd, report)
    with report.step("reading boundaries"):
        boundaries, zone = read_boundaries(o.boundaries, report)
    with report.step("reading lookups"):
        lookup, lookup_table = read_localities(o.localities)
        geography = read_table(o.geography_lookup, "geography lookup") if o.geography_lookup else None
    return Inputs(estimates, simd, boundaries, zone, lookup, lookup_table, geography)


def sources(o: Options, i: Inputs) -> list[Source]:
    """Each input with its zone column, named for messages."""
    def source(label: str, frame: pd.DataFrame) -> Source:
        zone = code_column(frame, "S01")
        if zone is None:
            raise ScotlandImportError(f"The {label} has no column of data zone codes (S01…).")
        return Source(label, frame, zone)
    found = [source(f"boundaries file {o.boundaries.name}", pd.DataFrame(i.boundaries.drop(columns="geometry"))),
             source(f"population estimates file {o.population.name}", i.estimates.table.frame),
             source(f"SIMD file {o.simd.name}", i.simd.table.frame),
             source(f"locality lookup {o.localities.name}", i.lookup_table.frame)]
    if i.geography is not None and o.geography_lookup is not None:
        found.append(source(f"geography lookup {o.geography_lookup.name}", i.geography.frame))
    return found


def projection_rows(o: Options, i: Inputs, council: str, zones: set[str], year: int, pack_name: str,
                    population: pd.DataFrame, report: Report) -> pd.DataFrame:
    """projections.csv for every variant, from the estimates' year onwards."""
    read = [read_projection(p, council, report) for p in o.projections]
    chosen = choose_variants(read, report)
    weights = pd.DataFrame({s: i.estimates.of(zones, s).sum() for s in ("F", "M")}).T
    estimates_by_band = population.groupby(["sex", "age_band"], as_index=False)["population"].sum()
    frames, published = [], {}
    for variant, projection in sorted(chosen.items()):
        cells = apportion.to_bands(projection, variant, weights)
        _check_years(cells, projection, variant, year, report)
        cells = cells[cells["year"] >= year]
        published[variant] = round(cells.loc[cells["year"] == year, "population"].sum())
        if o.rescale_projections:
            cells = apportion.rescale(cells, year, estimates_by_band)
        frames.append(apportion.whole_numbers(cells).assign(geography=pack_name, variant=variant))
    _method_notes(chosen, year, o.rescale_projections, report)
    out = pd.concat(frames, ignore_index=True)
    out["order"] = out["age_band"].map(AGE_BANDS.index)
    out = out.sort_values(["variant", "year", "sex", "order"]).reset_index(drop=True)
    _base_year_warning(out, chosen, published, year, population, o.rescale_projections, report)
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


def deprivation_rows(simd: Simd, zones: set[str]) -> pd.DataFrame:
    frame = simd.frame[simd.frame["area_code"].isin(zones)]
    doubled = sorted(set(frame.loc[frame["area_code"].duplicated(), "area_code"]))
    if doubled:
        raise ScotlandImportError(f"The SIMD file has more than one row for {', '.join(doubled[:20])}.")
    return frame.sort_values("area_code").reset_index(drop=True)


def run(o: Options, report: Report) -> dict[str, int]:
    """Read, check, build and write the pack; returns the size in bytes of each file written."""
    i = read_inputs(o, report)
    with report.step("finding the council's data zones"):
        found = sources(o, i)
        council, zones = resolve(o.council, found)
        check_coverage(council, zones, found)
        year = base_year(i.estimates, o.base_year, o.population)
        localities = locality_of(i.lookup, zones, o.localities)
        report.info(f"{council}: {len(zones)} data zones, {localities.nunique()} localities, estimates mid-{year}")
    pack_name = o.name or f"{council} HSCP"
    with report.step("building tables"):
        population = population_rows(i.estimates, zones)
        tables = {"population.csv": population, "deprivation.csv": deprivation_rows(i.simd, zones)}
        frames = [(s.frame, s.zone) for s in reversed(found)]  # geography lookup first, then the others
        areas = area_table(frames, zones, localities, report)
    with report.step("projections"):
        tables["projections.csv"] = projection_rows(o, i, council, zones, year, pack_name, population, report)
    with report.step("communities and need indicators"):
        both = i.estimates.of(zones).drop("All", level="sex", errors="ignore").groupby(level="area_code").sum()
        tables["communities.csv"] = comm.communities(o.communities, both, localities)
        tables["need_indicators.csv"] = comm.need_indicators(o.need_indicators)
    with report.step(f"simplifying boundaries (tolerance {o.simplify:g} m)"):
        chosen = i.boundaries[i.boundaries[i.zone].isin(zones)]
        geojson = geojson_text(areas, display_geometry(chosen, i.zone, o.simplify, report))
    meta = pack_meta(pack_name, year, i.simd.index_name, report)
    with report.step(f"writing {o.out}"):
        return write_pack(o.out, meta, geojson, tables, report)


def pack_meta(name: str, year: int, index_name: str, report: Report) -> dict[str, object]:
    return {"name": name, "country": "scotland", "base_year": year, "area_label": "data zone",
            "neighbourhood_label": "intermediate zone", "deprivation_index": index_name,
            "suppress_below": DEFAULT_SUPPRESS_BELOW, "synthetic": False,
            "source": "Published Scottish open data via analytics.importers.scotland", "notes": list(report.notes)}


def write_pack(out: Path, meta: dict[str, object], geojson: str, tables: dict[str, pd.DataFrame],
               report: Report) -> dict[str, int]:
    with staged(Path(out), report) as stage:
        (stage / "pack.toml").write_text(toml_text(meta), encoding="utf-8")
        (stage / "areas.geojson").write_text(geojson, encoding="utf-8")
        for name, frame in tables.items():
            write_csv(frame, stage / name)
        write_ledger_headers(stage)
        refuse_if_invalid(stage)
        sizes = {p.name: p.stat().st_size for p in sorted(stage.iterdir())}
    return sizes


def refuse_if_invalid(stage: Path) -> None:
    """The pack's own checks (analytics.pack, the same as a build and an upload) on the files written, before they
    replace anything: a value such as inf or 1e30 from an input file stops the import instead of the build."""
    problems = file_problems(stage)
    if problems:
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_CODES_LISTED])
        more = f"\n  … and {len(problems) - MAX_CODES_LISTED} more" if len(problems) > MAX_CODES_LISTED else ""
        raise ScotlandImportError(f"The pack would break the data contract in {len(problems)} place(s); fix the "
                                  f"input files they come from:\n{shown}{more}")


def parse_args(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(prog="python -m analytics.importers.scotland",
                                description="Build an area pack for a Scottish council / HSCP from published data.")
    p.add_argument("--council", required=True, help='council name or S12 code, e.g. "North Lanarkshire"')
    p.add_argument("--boundaries", required=True, type=Path, help="2011 data zone boundaries (GeoJSON/shp/gpkg)")
    p.add_argument("--simd", required=True, type=Path, help="SIMD ranks per data zone (CSV/XLSX)")
    p.add_argument("--population", required=True, type=Path, help="small area population estimates (CSV/XLSX)")
    p.add_argument("--projections", required=True, type=Path, action="append",
                   help="council population projections (CSV/XLSX); repeat for several files")
    p.add_argument("--localities", required=True, type=Path, help="data zone → HSCP locality lookup (CSV/XLSX)")
    p.add_argument("--geography-lookup", type=Path, help="data zone → intermediate zone, council lookup")
    p.add_argument("--communities", type=Path, help="local communities file (replaces the Scotland-wide defaults)")
    p.add_argument("--need-indicators", type=Path, help="local need indicators file (replaces the defaults)")
    p.add_argument("--base-year", type=int, help="year of the population estimates, if the file does not say")
    p.add_argument("--simplify", type=float, default=10.0, help="boundary simplification tolerance in metres "
                   "(default 10; 0 keeps every vertex)")
    p.add_argument("--rescale-projections", action="store_true",
                   help="apply projected growth to the estimates instead of keeping published figures")
    p.add_argument("--name", help='pack name (default "<Council> HSCP")')
    p.add_argument("--out", required=True, type=Path, help="pack folder to write (replaced atomically)")
    a = p.parse_args(argv)
    return Options(a.council, a.boundaries, a.simd, a.population, a.projections, a.localities, a.out,
                   a.geography_lookup, a.communities, a.need_indicators, a.base_year, a.simplify,
                   a.rescale_projections, a.name)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    report = Report()
    started = time.perf_counter()
    try:
        sizes = run(options, report)
    except ScotlandImportError as exc:
        print(f"ERROR: {exc}\nNothing was written; {options.out} is unchanged.", file=sys.stderr)
        return 2
    print(f"Wrote the area pack {options.out} in {time.perf_counter() - started:.1f} s:")
    for name, size in sizes.items():
        print(f"  {name:<20} {size:>12,} bytes")
    print(f"{len(report.warnings)} warning(s), {len(report.notes)} note(s) (the notes are in pack.toml).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
