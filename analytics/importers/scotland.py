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
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analytics.config import DEFAULT_SUPPRESS_BELOW
from analytics.importers import census, communities as comm, projected
from analytics.importers.areas import area_table, geojson_text
from analytics.importers.councils import Source, check_coverage, resolve
from analytics.importers.deprivation import Simd, read_simd
from analytics.importers.errors import Report, ScotlandImportError
from analytics.importers.geography import display_geometry, locality_of, read_boundaries, read_localities
from analytics.importers.output import command, write_pack
from analytics.importers.population import Estimates, base_year, population_rows, read_estimates
from analytics.importers.projections import read_projection
from analytics.importers.readers import Table, code_column, read_table


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
    census: list[Path] = field(default_factory=list)
    census_year: int | None = None


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
    weights = pd.DataFrame({s: i.estimates.of(zones, s).sum() for s in ("F", "M")}).T
    return projected.projection_rows(read, weights, year, pack_name, population, o.rescale_projections, report)


def census_denominators(o: Options, both: pd.DataFrame, localities: pd.Series, year: int,
                        report: Report) -> pd.DataFrame:
    """communities.csv: the defaults (or --communities), with census rows (--census) replacing national shares."""
    defaults = comm.communities(o.communities, both, localities)
    tables = [census.read_census(p, "S01", "data zone", o.census_year) for p in o.census]
    rows = census.census_communities(tables, "scotland", both.sum(axis=1), localities, year, report)
    return census.replace_defaults(defaults, rows, report)


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
        tables["communities.csv"] = census_denominators(o, both, localities, year, report)
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
    p.add_argument("--census", type=Path, action="append", default=[],
                   help="census table per data zone (ethnic group UV201, disability); repeat for several files")
    p.add_argument("--census-year", type=int, help="year of the census files, if their names do not say")
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
                   a.rescale_projections, a.name, a.census, a.census_year)


def main(argv: list[str] | None = None) -> int:
    return command(parse_args(argv), run)


if __name__ == "__main__":
    sys.exit(main())
