"""Published English open data → an area pack for an ICB, a district or a set of districts.

    python -m analytics.importers.england --icb "NHS Gloucestershire" \\
        --lookup LSOA_LOOKUP.csv --boundaries LSOA.geojson --imd IMD.csv --population SAPE.csv \\
        --sex-split CENSUS_SEX_BY_DISTRICT.csv --projections "2018 SNPP Population persons.csv" \\
        --census TS021.csv --census TS038.csv --out data/gloucestershire

Exit status 0 when the pack was written, 2 when the input cannot make a pack (nothing is written then).
See the README (section "Importing an English partnership from published open data").
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analytics.config import DEFAULT_SUPPRESS_BELOW
from analytics.importers import census, communities as comm, england_areas as areas, projected
from analytics.importers import england_projections as snpp
from analytics.importers.areas import geojson_text
from analytics.importers.england_deprivation import deprivation_rows, read_imd
from analytics.importers.england_generations import Changes, convert_counts, read_changes
from analytics.importers.england_population import population_rows, read_sex_ratios, split_by_sex
from analytics.importers.errors import PackImportError, Report, list_codes
from analytics.importers.geography import display_geometry, locality_of, read_boundaries, read_localities
from analytics.importers.output import command, write_pack
from analytics.importers.population import Estimates, base_year, read_estimates

ZONE = "LSOA"


@dataclass
class Options:
    lookup: Path
    boundaries: Path
    imd: Path
    population: Path
    out: Path
    icb: str | None = None
    districts: list[str] = field(default_factory=list)
    sex_split: Path | None = None
    lsoa_changes: Path | None = None
    projections: list[str] = field(default_factory=list)
    no_projections: bool = False
    localities: str = "district"
    neighbourhoods: str = "msoa"
    census: list[Path] = field(default_factory=list)
    census_year: int | None = None
    communities: Path | None = None
    need_indicators: Path | None = None
    base_year: int | None = None
    simplify: float = 10.0
    rescale_projections: bool = False
    name: str | None = None


@dataclass
class Partnership:
    """What the lookup says: the partnership's LSOAs (of `generation`), each one's district and locality."""

    name: str
    zones: set[str]
    generation: int
    lookup: areas.Lookup
    districts: pd.Series  # area_code → district code
    localities: pd.Series  # area_code → locality name
    by_district: bool  # the localities are the districts


def find_partnership(o: Options, changes: Changes | None, report: Report) -> Partnership:
    lookup = areas.read_lookup(o.lookup, changes.codes() if changes else None)
    name, zones = areas.select(lookup, o.icb, o.districts)
    if not lookup.has("district"):
        raise PackImportError(f"The LSOA lookup {o.lookup.name} has no district column (E06–E09 codes); the "
                              "census sex table and the projections are per district.")
    districts = areas.districts_of(lookup, zones)
    if o.localities == "district":
        localities, by_district = areas.district_localities(lookup, zones), True
        report.note("Localities are the districts (local authority districts, from the LSOA lookup).")
    else:
        path = Path(o.localities)
        table, _ = read_localities(path, "E01", ZONE)
        absent = zones - set(table["area_code"])
        if absent:
            raise PackImportError(f"The locality lookup {path.name} has no row for {list_codes(absent)} (LSOA "
                                  f"{lookup.generation} codes); give a locality for every LSOA of the partnership.")
        localities, by_district = locality_of(table, zones, path), False
        report.note(f"Localities from {path.name} (LSOA → locality).")
    report.info(f"{name}: {len(zones)} LSOAs ({lookup.generation}), {districts.nunique()} district(s), "
                f"{localities.nunique()} localities")
    return Partnership(name, zones, lookup.generation, lookup, districts, localities, by_district)


def read_population(o: Options, p: Partnership, changes: Changes | None, weights: pd.Series | None,
                    report: Report) -> tuple[Estimates, bool]:
    """Estimates on the pack's LSOAs, by sex; True when persons were split by the census district ratio."""
    estimates = read_estimates(o.population, report, "E01", ZONE, persons_ok=True)
    codes = set(estimates.single.index.get_level_values("area_code"))
    if not p.zones <= codes:
        estimates = _other_generation(o, p, estimates, codes, changes, weights, report)
    sexes = set(estimates.single.index.get_level_values("sex"))
    if {"F", "M"} <= sexes:
        return estimates, False
    if o.sex_split is None:
        raise PackImportError(f"The population estimates file {o.population.name} gives persons only; give "
                              "--sex-split with a published table of females and males per district (e.g. "
                              "census2021_sex_by_broad_age_ltla.csv) to split them.")
    ratios = read_sex_ratios(o.sex_split)
    persons = estimates.of(p.zones, "All").droplevel("sex")
    single = split_by_sex(persons, p.districts, ratios, o.sex_split)
    report.note(f"The population estimates ({o.population.name}) give persons only: each LSOA's persons of each "
                f"single year of age are split into females and males by the sex ratio of its district in the "
                f"same broad age group (0–15, 16–64, 65+) in {o.sex_split.name}; females are rounded per band and "
                "males are the rest, so persons are as published (population.csv method = apportioned_sex).")
    return Estimates(single, estimates.single_years, estimates.table), True


def _other_generation(o: Options, p: Partnership, estimates: Estimates, codes: set[str], changes: Changes | None,
                      weights: pd.Series | None, report: Report) -> Estimates:
    if changes is None:
        raise PackImportError(f"The population estimates file {o.population.name} has no rows for "
                              f"{list_codes(p.zones - codes)}; use estimates for every LSOA of the partnership, or "
                              "give --lsoa-changes if they are for the other LSOA generation (2011 or 2021).")
    other = 2011 if p.generation == 2021 else 2021
    frames = []
    for sex in sorted(set(estimates.single.index.get_level_values("sex"))):
        part = estimates.single.xs(sex, level="sex")
        moved = convert_counts(part, changes, other, p.generation, p.zones, weights,
                               f"population estimates file {o.population.name}")
        frames.append(moved.set_index(pd.Index([sex] * len(moved), name="sex"), append=True))
    report.note(f"The population estimates are for LSOA {other}; they are moved to the pack's LSOA {p.generation} "
                f"through {changes.path.name}: split LSOAs are shared by census residents where a census file is "
                "given (else equally), merged ones summed.")
    return Estimates(pd.concat(frames).sort_index(), estimates.single_years, estimates.table)


def census_tables(o: Options, p: Partnership, changes: Changes | None,
                  persons: pd.Series | None) -> list[census.CensusTable]:
    """The census tables on the pack's LSOAs (moved through --lsoa-changes when published for the other)."""
    out = []
    for path in o.census:
        table = census.read_census(path, "E01", ZONE, o.census_year)
        if not p.zones <= set(table.wide.index):
            if changes is None:
                missing = p.zones - set(table.wide.index)
                raise PackImportError(f"The census file {path.name} has no rows for {list_codes(missing)}; if it "
                                      "is on the other LSOA generation, give --lsoa-changes.")
            other = 2011 if p.generation == 2021 else 2021
            wide = convert_counts(table.wide, changes, other, p.generation, p.zones, persons,
                                  f"census file {path.name}")
            table = census.CensusTable(wide, path, table.year, table.measured_total)
        out.append(table)
    return out


def projection_rows(o: Options, p: Partnership, estimates: Estimates, year: int, pack_name: str,
                    population: pd.DataFrame, report: Report) -> pd.DataFrame:
    if not o.projections:
        if not o.no_projections:
            raise PackImportError("No projection file was given. Give the ONS subnational population projections "
                                  "for the partnership's districts with --projections (e.g. \"2018 SNPP Population "
                                  "females.csv\" and \"… males.csv\", from ons.gov.uk), or --no-projections to hold "
                                  "the base-year population flat, said as such on every page that uses it.")
        return snpp.sort_rows(snpp.held_flat(population, year, 10, pack_name, report))
    read = snpp.projections(o.projections, set(p.districts))
    weights = pd.DataFrame({s: estimates.of(p.zones, s).sum() for s in ("F", "M")}).T
    frames = [projected.projection_rows(read[None], weights, year, pack_name, population,
                                        o.rescale_projections, report)]
    if p.by_district and not o.rescale_projections:
        names = p.localities.groupby(p.districts).first()
        for district, own in sorted((k, v) for k, v in read.items() if k is not None):
            zones = set(p.districts.index[p.districts == district])
            own_weights = pd.DataFrame({s: estimates.of(zones, s).sum() for s in ("F", "M")}).T
            frames.append(snpp.locality_rows(own, own_weights, year, names[district]))
        report.note("Each locality (district) also has its own district projection as published (projections.csv "
                    "geography = the locality); the partnership's projection is the sum of its districts'.")
    else:
        report.note("The partnership's projection (the sum of its districts') is shared over LSOAs by the ratio "
                    "method: each LSOA's share of the base-year residents of its sex and band.")
    return snpp.sort_rows(pd.concat(frames, ignore_index=True))


def run(o: Options, report: Report) -> dict[str, int]:
    """Read, check, build and write the pack; returns the size in bytes of each file written."""
    with report.step("reading lookups"):
        changes = read_changes(o.lsoa_changes) if o.lsoa_changes else None
        p = find_partnership(o, changes, report)
    with report.step("reading boundaries"):
        boundaries, zone = read_boundaries(o.boundaries, report, "E01", ZONE)
        absent = p.zones - set(boundaries[zone])
        if absent:
            raise PackImportError(f"The boundaries file {o.boundaries.name} has no polygon for {list_codes(absent)}; "
                                  f"use LSOA {p.generation} boundaries covering the whole partnership.")
    with report.step("reading population estimates and census tables"):
        # On LSOA 2021 the census needs no moving, and its residents weigh the split of 2011 estimates.
        first = census_tables(o, p, changes, None) if o.census and p.generation == 2021 else []
        weights = first[0].wide[census.TOTAL] if first else None
        estimates, split = read_population(o, p, changes, weights, report)
        year = base_year(estimates, o.base_year, o.population)
        persons = estimates.of(p.zones, "F").droplevel("sex").sum(axis=1) + \
            estimates.of(p.zones, "M").droplevel("sex").sum(axis=1)
    with report.step("reading IMD"):
        imd = read_imd(o.imd, changes.codes() if changes else None)
        deprivation = deprivation_rows(imd, p.zones, p.generation, changes, report)
    pack_name = o.name or p.name
    with report.step("building tables"):
        population = population_rows(estimates, p.zones, split)
        tables = {"population.csv": population, "deprivation.csv": deprivation}
        area_rows = areas.area_table(p.lookup, p.zones, p.localities, o.neighbourhoods)
    with report.step("projections"):
        tables["projections.csv"] = projection_rows(o, p, estimates, year, pack_name, population, report)
    with report.step("communities and need indicators"):
        both = (estimates.of(p.zones, "F").droplevel("sex") + estimates.of(p.zones, "M").droplevel("sex"))
        defaults = comm.communities(o.communities, both, p.localities, "communities_england.csv")
        tables_on_pack = first or census_tables(o, p, changes, persons)
        rows = census.census_communities(tables_on_pack, "england", persons, p.localities, year, report)
        tables["communities.csv"] = census.replace_defaults(defaults, rows, report)
        tables["need_indicators.csv"] = comm.need_indicators(o.need_indicators)
    with report.step(f"simplifying boundaries (tolerance {o.simplify:g} m)"):
        chosen = boundaries[boundaries[zone].isin(p.zones)]
        geojson = geojson_text(area_rows, display_geometry(chosen, zone, o.simplify, report))
    meta = pack_meta(pack_name, year, imd.name, o.neighbourhoods, p.generation, report)
    with report.step(f"writing {o.out}"):
        return write_pack(o.out, meta, geojson, tables, report)


def pack_meta(name: str, year: int, index_name: str, neighbourhoods: str, generation: int,
              report: Report) -> dict[str, object]:
    return {"name": name, "country": "england", "base_year": year, "area_label": "LSOA",
            "neighbourhood_label": "MSOA" if neighbourhoods == "msoa" else "ward", "deprivation_index": index_name,
            "suppress_below": DEFAULT_SUPPRESS_BELOW, "synthetic": False,
            "source": f"Published English open data (LSOA {generation}) via analytics.importers.england",
            "notes": list(report.notes)}


def parse_args(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(prog="python -m analytics.importers.england",
                                description="Build an area pack for an English ICB or districts from published data.")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--icb", help='ICB name or E54 code, e.g. "NHS Gloucestershire" or E54000043')
    which.add_argument("--district", action="append", default=[], help="district name or code (E06–E09); repeat "
                       "for a set of districts")
    p.add_argument("--lookup", required=True, type=Path, help="LSOA → MSOA or ward → district → ICB lookup (ONS)")
    p.add_argument("--boundaries", required=True, type=Path, help="LSOA boundaries (GeoJSON/shp/gpkg), same LSOA "
                   "generation as the lookup")
    p.add_argument("--imd", required=True, type=Path, help="IMD 2019 (LSOA 2011) or IMD 2025 (LSOA 2021) ranks")
    p.add_argument("--population", required=True, type=Path, help="ONS small area population estimates per LSOA")
    p.add_argument("--sex-split", type=Path, help="females and males per district by age group (Census 2021), "
                   "to split persons-only estimates by sex")
    p.add_argument("--lsoa-changes", type=Path, help="LSOA 2011 ↔ 2021 best-fit lookup, when files mix generations")
    p.add_argument("--projections", action="append", default=[], metavar="[VARIANT=]FILE",
                   help="ONS SNPP file (females/males/persons); repeat; prefix a variant name for variant files")
    p.add_argument("--no-projections", action="store_true", help="no projection file: hold the base year flat, "
                   "with a warning and a note in the pack (otherwise a missing projection stops the import)")
    p.add_argument("--localities", default="district", help='"district" (default) or a two-column LSOA → '
                   "locality lookup file (ICS locality partnerships, primary care networks)")
    p.add_argument("--neighbourhoods", choices=sorted(areas.NEIGHBOURHOODS), default="msoa",
                   help="neighbourhoods: msoa (default) or ward, from the lookup")
    p.add_argument("--census", type=Path, action="append", default=[],
                   help="census table per LSOA (TS021 ethnic group, TS038 disability); repeat for several")
    p.add_argument("--census-year", type=int, help="year of the census files, if their names do not say")
    p.add_argument("--communities", type=Path, help="local communities file (replaces the England-wide defaults)")
    p.add_argument("--need-indicators", type=Path, help="local need indicators file (replaces the defaults)")
    p.add_argument("--base-year", type=int, help="year of the population estimates, if the file does not say")
    p.add_argument("--simplify", type=float, default=10.0, help="boundary simplification tolerance in metres")
    p.add_argument("--rescale-projections", action="store_true",
                   help="apply projected growth to the estimates instead of keeping published figures")
    p.add_argument("--name", help="pack name (default: the ICB's or the districts' names)")
    p.add_argument("--out", required=True, type=Path, help="pack folder to write (replaced atomically)")
    a = p.parse_args(argv)
    return Options(a.lookup, a.boundaries, a.imd, a.population, a.out, a.icb, a.district, a.sex_split,
                   a.lsoa_changes, a.projections, a.no_projections, a.localities, a.neighbourhoods, a.census,
                   a.census_year, a.communities, a.need_indicators, a.base_year, a.simplify, a.rescale_projections,
                   a.name)


def main(argv: list[str] | None = None) -> int:
    return command(parse_args(argv), run)


if __name__ == "__main__":
    sys.exit(main())
