"""English Indices of Deprivation (IMD 2019 on LSOA 2011, IMD 2025 on LSOA 2021) → deprivation.csv.

Headers are recognised in MHCLG's own forms ('Index of Multiple Deprivation (IMD) Rank (where 1 is most
deprived)', 'Income Rank …') and in short forms (IMD_rank, Income_rank, Housing_and_Access_rank). Where the
pack's LSOAs are of the other generation, ranks go through the LSOA 2011 ↔ 2021 lookup (england_generations).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.importers.england_areas import LSOA, generation_of
from analytics.importers.england_generations import Changes, convert_ranks, split_counts
from analytics.importers.errors import PackImportError, Report, list_codes
from analytics.importers.readers import code_column, numbers, read_table, squash

WHAT = "IMD file"
# The pack's domain columns ← IMD domains. IMD's "Barriers to Housing and Services" (2019: Housing_and_Access,
# 2025: Housing_and_Services) is the nearest to the contract's housing domain; the Living Environment domain has
# no contract column and is kept as environment_rank (extra columns are allowed).
DOMAINS = {"income_rank": ("income",), "employment_rank": ("employment",), "education_rank": ("education",),
           "health_rank": ("health",), "crime_rank": ("crime",), "housing_rank": ("housing",),
           "environment_rank": ("environment",)}
NOT_DOMAIN = ("idaci", "idaopi", "children", "olderpeople", "score", "decile", "subdomain")


@dataclass
class Imd:
    """`frame`: area_code, rank, decile, <domain>_rank …; `generation` of its LSOAs; `name` e.g. 'IMD 2019'."""

    frame: pd.DataFrame
    generation: int
    name: str
    path: Path


def read_imd(path: Path, by_generation: dict[int, set[str]] | None) -> Imd:
    table = read_table(path, WHAT)
    frame = table.frame
    zone = code_column(frame, LSOA)
    if zone is None:
        raise PackImportError(f"The {WHAT} {path} has no column of LSOA codes (E01…).")
    columns = _columns(frame, path)
    values = numbers(frame, list(columns.values()), f"{WHAT} {path.name}")
    out = pd.DataFrame({"area_code": frame[zone].str.strip()})
    for name, column in columns.items():
        out[name] = values[column].to_numpy()
    bad = out[(out["rank"] < 1) | (out["decile"] < 1) | (out["decile"] > 10)]
    if len(bad):
        row = bad.index[0]
        raise PackImportError(f"The {WHAT} {path}, row {row + 2}: rank {bad.iloc[0]['rank']:g}, decile "
                              f"{bad.iloc[0]['decile']:g}; ranks run from 1 (most deprived) and deciles 1…10.")
    generation = generation_of(zone, set(out["area_code"]), by_generation)
    if generation is None:
        generation = 2011 if len(out) == 32_844 else 2021 if len(out) == 33_755 else None
    if generation is None:
        raise PackImportError(f"Cannot tell whether the {WHAT} {path} is on LSOA 2011 or 2021 (column '{zone}'); "
                              "name the column 'LSOA code (2011)' or 'LSOA code (2021)'.")
    return Imd(out, generation, _index_name(path, frame.columns), path)


def _columns(frame: pd.DataFrame, path: Path) -> dict[str, str]:
    names = {squash(c): c for c in frame.columns}
    def pick(*needles: str, ending: str) -> str | None:  # noqa: E306 - the first header holding every needle
        return next((c for s, c in names.items() if all(n in s for n in needles) and ending in s
                     and not any(x in s for x in NOT_DOMAIN if x != ending)), None)
    rank = pick("imd", ending="rank") or pick("indexofmultipledeprivation", ending="rank")
    decile = pick("imd", ending="decile") or pick("indexofmultipledeprivation", ending="decile")
    if rank is None or decile is None:
        raise PackImportError(f"The {WHAT} {path} needs the overall IMD rank and decile columns (e.g. IMD_rank, "
                              "IMD_decile, or MHCLG's 'Index of Multiple Deprivation (IMD) Rank …'); its columns: "
                              f"{', '.join(map(str, frame.columns[:12]))}.")
    found = {"rank": rank, "decile": decile}
    for domain, needles in DOMAINS.items():
        column = pick(*needles, ending="rank")
        if column and column != rank:
            found[domain] = column
    return found


def _index_name(path: Path, columns: pd.Index) -> str:
    match = re.search(r"(?:imd|iod|deprivation)[ _-]?(20\d{2})", " ".join([path.stem, *map(str, columns)]),
                      flags=re.IGNORECASE)
    return f"IMD {match[1]}" if match else "English IMD"


def deprivation_rows(imd: Imd, zones: set[str], generation: int, changes: Changes | None,
                     report: Report) -> pd.DataFrame:
    """deprivation.csv for the pack's LSOAs: rank, decile, quintile (from the decile), domain ranks."""
    frame = imd.frame.drop_duplicates("area_code").set_index("area_code")
    if imd.generation == generation:
        missing = zones - set(frame.index)
        if missing:
            raise PackImportError(f"The {WHAT} {imd.path.name} has no rows for {list_codes(missing)}; use the "
                                  "file for all of England.")
        out = frame.loc[sorted(zones)].copy()
    else:
        out = _converted(imd, frame, zones, generation, changes, report)
    out["quintile"] = np.ceil(out["decile"] / 2).astype(int)
    report.note(f"Deprivation: {imd.name} ({imd.path.name}), national ranks (1 = most deprived in England); quintiles "
                "are pairs of the published national deciles (deciles 1–2 = quintile 1). IMD's Barriers to Housing "
                "and Services domain is housing_rank; Living Environment is environment_rank.")
    ranks = [c for c in out.columns if c.endswith("rank")]
    out[ranks] = np.floor(out[ranks]).astype(int)
    out["decile"] = out["decile"].astype(int)
    order = ["rank", "decile", "quintile"] + [c for c in DOMAINS if c in out.columns]
    return out[order].rename_axis("area_code").reset_index()


def _converted(imd: Imd, frame: pd.DataFrame, zones: set[str], generation: int, changes: Changes | None,
               report: Report) -> pd.DataFrame:
    """Ranks averaged over counterparts; the decile of an averaged rank is the published decile of that rank."""
    if changes is None:
        raise PackImportError(f"The {WHAT} {imd.path.name} is on LSOA {imd.generation} but the pack's LSOAs are "
                              f"{generation}: give the LSOA 2011 ↔ 2021 lookup with --lsoa-changes (ONS 'LSOA "
                              f"(2011) to LSOA (2021) to LAD best fit lookup'), or the IMD on LSOA {generation}.")
    ranks = [c for c in frame.columns if c.endswith("rank")]
    out = convert_ranks(frame[ranks], changes, imd.generation, generation, zones, f"{WHAT} {imd.path.name}")
    thresholds = frame.sort_values("rank")[["rank", "decile"]]
    at = np.searchsorted(thresholds["rank"].to_numpy(), np.floor(out["rank"].to_numpy()), side="right") - 1
    out["decile"] = thresholds["decile"].to_numpy()[np.clip(at, 0, None)]
    moved = split_counts(changes, imd.generation, generation, zones)
    report.note(f"{imd.name} is published for LSOA {imd.generation}; the pack's LSOAs are {generation}. Ranks are "
                f"carried through the LSOA 2011 ↔ 2021 best-fit lookup ({changes.path.name}): an unchanged or merged "
                f"LSOA takes its counterpart's published ranks; {moved} LSOA(s) touched by a split take the mean of "
                "their counterparts' ranks (rounded down), and the decile that rank has in the published index.")
    return out
