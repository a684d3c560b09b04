"""SIMD ranks per data zone (gov.scot's published column names, CSV or XLSX) → deprivation.csv."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.importers.errors import Report, ScotlandImportError
from analytics.importers.readers import Table, code_column, numbers, read_table, squash

WHAT = "SIMD file"
DOMAINS = ("income", "employment", "health", "education", "access", "crime", "housing")
SCOTLAND_ZONES = 6976  # 2011 data zones: SIMD ranks run 1 … 6,976


@dataclass
class Simd:
    frame: pd.DataFrame  # area_code, rank, decile, quintile, <domain>_rank …
    index_name: str  # e.g. "SIMD 2020v2"
    table: Table


def read_simd(path: Path, report: Report) -> Simd:
    table = read_table(path, WHAT)
    frame = table.frame
    zone = code_column(frame, "S01")
    if zone is None:
        raise ScotlandImportError(f"The {WHAT} {path} has no column of data zone codes (S01…).")
    columns = _columns(frame, path)
    values = numbers(frame, list(columns.values()), f"{WHAT} {path.name}")
    out = pd.DataFrame({"area_code": frame[zone].str.strip()})
    for name, column in columns.items():
        out[name] = values[column].to_numpy()
    out = _fill_groups(out, report)
    out = _whole_ranks(out, report)
    _check_ranges(out, path)
    return Simd(out, _index_name(columns["rank"]), table)


def _columns(frame: pd.DataFrame, path: Path) -> dict[str, str]:
    """Overall rank, decile, quintile and domain ranks by name: SIMD2020v2_Rank, SIMD2020_Income_Domain_Rank …"""
    names = {squash(c): c for c in frame.columns}
    def pick(test) -> str | None:  # noqa: E306 - a small local finder keeps the rules readable
        return next((c for s, c in names.items() if test(s)), None)
    overall = pick(lambda s: s.endswith("rank") and "domain" not in s and not any(d in s for d in DOMAINS)
                   and ("simd" in s or s in ("rank", "overallrank")))
    if overall is None:
        raise ScotlandImportError(f"The {WHAT} {path} has no overall rank column (e.g. SIMD2020v2_Rank); "
                                  f"its columns: {', '.join(map(str, frame.columns[:20]))}.")
    found = {"rank": overall}
    for group in ("decile", "quintile"):
        column = pick(lambda s: s.endswith(group) and "domain" not in s and not any(d in s for d in DOMAINS))
        if column:
            found[group] = column
    for domain in DOMAINS:
        column = pick(lambda s: domain in s and s.endswith("rank"))
        if column:
            found[f"{domain}_rank"] = column
    return found


def _fill_groups(out: pd.DataFrame, report: Report) -> pd.DataFrame:
    """Deciles/quintiles missing from the file are worked out from the national rank, as gov.scot does."""
    for group, parts in (("decile", 10), ("quintile", 5)):
        if group not in out:
            out[group] = np.ceil(out["rank"] * parts / SCOTLAND_ZONES).astype(int)
            report.note(f"SIMD {group}s were not in the SIMD file; they are worked out from the national rank "
                        f"(rank × {parts} / {SCOTLAND_ZONES:,}, rounded up).")
    return out[["area_code", "rank", "decile", "quintile"] + [c for c in out if c.endswith("_rank") and c != "rank"]]


def _whole_ranks(out: pd.DataFrame, report: Report) -> pd.DataFrame:
    """Tied domain ranks are published as averages (4563.5); the pack needs whole numbers: ties take the lower."""
    ranks = [c for c in out.columns if c.endswith("rank")]
    halves = int((out[ranks] % 1 != 0).to_numpy().sum())
    if halves:
        report.note(f"The SIMD file gives {halves:,} tied ranks as averages (e.g. 4563.5); they are rounded down "
                    "(a tie takes the more deprived rank) because the pack holds whole-number ranks.")
    out[ranks] = np.floor(out[ranks]).astype(int)
    out[["decile", "quintile"]] = out[["decile", "quintile"]].astype(int)
    return out


def _check_ranges(out: pd.DataFrame, path: Path) -> None:
    for column, top in (("rank", SCOTLAND_ZONES), ("decile", 10), ("quintile", 5)):
        bad = out[(out[column] < 1) | (out[column] > top)]
        if len(bad):
            first = bad.iloc[0]
            raise ScotlandImportError(f"The {WHAT} {path} has {column} values outside 1…{top} (e.g. "
                                      f"{first['area_code']}: {first[column]}); is it really SIMD for 2011 data "
                                      "zones, with 1 = most deprived?")


def _index_name(rank_column: str) -> str:
    """'SIMD2020v2_Rank' → 'SIMD 2020v2'; 'SIMD16_Rank' → 'SIMD 2016'; else 'SIMD'."""
    match = re.search(r"simd[ _]?(\d{2,4})(v\d+)?", rank_column, flags=re.IGNORECASE)
    if not match:
        return "SIMD"
    year = match[1] if len(match[1]) == 4 else f"20{match[1]}"
    return f"SIMD {year}{(match[2] or '').lower()}"
