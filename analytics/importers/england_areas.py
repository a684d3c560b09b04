"""English small areas: the LSOA lookup (LSOA → MSOA or ward, district, ICB), which LSOAs the partnership holds,
and the pack's area table.

ONS publishes these lookups with headers such as LSOA11_CODE / LSOA11CD, MSOA11_NAME / MSOA11NM, WARD24CD,
LTLA22_CODE, ICB22_NAME. Columns are recognised by their codes (E01 LSOA, E02 MSOA, E05 ward, E06–E09 district,
E54 ICB) and a name column by the header beside them, so a lookup for any ICB and any year of boundaries works.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analytics.importers.errors import PackImportError, list_codes
from analytics.importers.readers import Table, code_column, is_text_column, read_table, squash

LSOA, MSOA, WARD, DISTRICT, ICB = "E01", "E02", "E05", "E0[6-9]", "E54"
LEVEL_WORDS = {MSOA: "MSOA", WARD: "ward", DISTRICT: "district", ICB: "ICB"}
NEIGHBOURHOODS = {"msoa": MSOA, "ward": WARD}


@dataclass
class Lookup:
    """LSOA lookup with canonical columns: area_code, area_name and <level>_code / <level>_name for each level
    the file has (msoa, ward, district, icb); `generation` is 2011 or 2021."""

    frame: pd.DataFrame
    generation: int
    table: Table

    def has(self, level: str) -> bool:
        return f"{level}_code" in self.frame.columns


def generation_of(header: str, codes: set[str], by_generation: dict[int, set[str]] | None = None) -> int | None:
    """2011 or 2021 from the header ('LSOA11_CODE', 'lsoa21_code', 'LSOA code (2011)'), else from which
    generation's codes the file holds (the 2011↔2021 lookup knows both), else None."""
    name = squash(header)
    match = re.search(r"lsoa(?:20)?(11|21)", name) or re.search(r"20(11|21)", name)
    if match:
        return int(f"20{match[1]}")
    if by_generation:
        hits = {g: len(codes & c) for g, c in by_generation.items()}
        best = max(hits, key=hits.get)
        others = [h for g, h in hits.items() if g != best]
        if hits[best] and all(hits[best] > h for h in others) and len(codes - by_generation[best]) < len(codes) / 2:
            return best
    return None


def _name_beside(frame: pd.DataFrame, code: str) -> str | None:
    """The name column that goes with a code column: LSOA11_CODE → LSOA11_NAME, WD24CD → WD24NM, else the text
    column right after it."""
    stem = re.sub(r"(code|cd)$", "", squash(code))
    for column in frame.columns:
        if column != code and squash(column) in (f"{stem}name", f"{stem}nm") and is_text_column(frame[column]):
            return column
    after = list(frame.columns).index(code) + 1
    if after < len(frame.columns) and is_text_column(frame[frame.columns[after]]):
        return frame.columns[after]
    return None


def read_lookup(path: Path, by_generation: dict[int, set[str]] | None = None) -> Lookup:
    """The LSOA lookup as published (CSV or XLSX), with canonical columns."""
    table = read_table(path, "LSOA lookup")
    frame = table.frame
    zone = code_column(frame, LSOA)
    if zone is None:
        raise PackImportError(f"The LSOA lookup {path} has no column of LSOA codes (E01…); its columns: "
                              f"{', '.join(map(str, frame.columns[:12]))}. Use the ONS LSOA → MSOA/ward → LTLA → "
                              "ICB lookup.")
    out = pd.DataFrame({"area_code": frame[zone].str.strip()})
    out["area_name"] = frame[_name_beside(frame, zone) or zone].str.strip()
    for level, prefix in (("msoa", MSOA), ("ward", WARD), ("district", DISTRICT), ("icb", ICB)):
        column = code_column(frame, prefix)
        if column is not None:
            out[f"{level}_code"] = frame[column].str.strip()
            out[f"{level}_name"] = frame[_name_beside(frame, column) or column].str.strip()
    generation = generation_of(zone, set(out["area_code"]), by_generation)
    if generation is None:
        raise PackImportError(f"Cannot tell whether the LSOA lookup {path} is for LSOA 2011 or LSOA 2021: its "
                              f"column '{zone}' does not say (LSOA11CD / LSOA21CD do). Rename the column, or give "
                              "--lsoa-changes so the codes can be recognised.")
    doubled = set(out.loc[out["area_code"].duplicated(), "area_code"])
    if doubled:
        raise PackImportError(f"The LSOA lookup {path} has more than one row for {list_codes(doubled)}; each LSOA "
                              "belongs to one district (use the best-fit lookup).")
    return Lookup(out, generation, table)


def select(lookup: Lookup, icb: str | None, districts: list[str]) -> tuple[str, set[str]]:
    """The partnership's display name and its LSOAs: an ICB (name or E54 code) or districts (names or codes)."""
    frame, path = lookup.frame, lookup.table.path
    if icb:
        if not lookup.has("icb"):
            raise PackImportError(f"The LSOA lookup {path.name} has no ICB column (E54…); choose --district instead "
                                  "or use a lookup with ICB codes and names.")
        hit = _matches(frame, "icb", icb)
        if not hit.any():
            raise PackImportError(_unknown("ICB", icb, frame, "icb", path))
        return frame.loc[hit, "icb_name"].mode().iloc[0], set(frame.loc[hit, "area_code"])
    if not lookup.has("district"):
        raise PackImportError(f"The LSOA lookup {path.name} has no district column (E06/E07/E08/E09 codes); use "
                              "the ONS lookup to local authority districts.")
    chosen: set[str] = set()
    names = []
    for district in districts:
        hit = _matches(frame, "district", district)
        if not hit.any():
            raise PackImportError(_unknown("district", district, frame, "district", path))
        chosen |= set(frame.loc[hit, "area_code"])
        names.append(frame.loc[hit, "district_name"].iloc[0])
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names), chosen


def _simple(text: str) -> str:
    text = re.sub(r"\b(nhs|integrated care board|icb|council|district|borough|city of)\b", " ", str(text).lower())
    return re.sub(r"[^a-z0-9]", "", text)


def _matches(frame: pd.DataFrame, level: str, wanted: str) -> pd.Series:
    by_code = frame[f"{level}_code"].str.upper() == wanted.strip().upper()
    return by_code | (frame[f"{level}_name"].map(_simple) == _simple(wanted))


def _unknown(word: str, wanted: str, frame: pd.DataFrame, level: str, path: Path) -> str:
    known = sorted(set(frame[f"{level}_name"]))
    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (f"'{wanted}' is not a {word} in the LSOA lookup {path.name}.{hint} The {word}s it holds "
            f"({len(known)}): {', '.join(known[:40])}.")


def check_lookup_covers(lookup: Lookup, zones: set[str], label: str) -> None:
    """Every LSOA of the partnership must be in another file too (boundaries, estimates): name those missing."""
    missing = zones - set(lookup.frame["area_code"])
    if missing:
        raise PackImportError(f"The LSOA lookup has no rows for {list_codes(missing)} from the {label}.")


def area_table(lookup: Lookup, zones: set[str], localities: pd.Series, neighbourhood: str) -> pd.DataFrame:
    """area_code, area_name, neighbourhood_code, neighbourhood_name, locality for every LSOA of the pack."""
    level = "msoa" if NEIGHBOURHOODS[neighbourhood] == MSOA else "ward"
    if not lookup.has(level):
        other = "ward" if level == "msoa" else "msoa"
        hint = f" (it has {other}s: --neighbourhoods {other})" if lookup.has(other) else ""
        raise PackImportError(f"The LSOA lookup {lookup.table.path.name} has no {LEVEL_WORDS[NEIGHBOURHOODS[neighbourhood]]} "
                              f"column{hint}; give a lookup with {level.upper()} codes and names.")
    rows = lookup.frame[lookup.frame["area_code"].isin(zones)].set_index("area_code").sort_index()
    table = pd.DataFrame({"area_name": rows["area_name"], "neighbourhood_code": rows[f"{level}_code"],
                          "neighbourhood_name": rows[f"{level}_name"]}, index=rows.index)
    table["locality"] = localities.reindex(table.index)
    table.index.name = "area_code"
    return table.reset_index()


def district_localities(lookup: Lookup, zones: set[str]) -> pd.Series:
    """Each LSOA's district name: the usual localities of an English ICS (Gloucestershire's six ILPs)."""
    rows = lookup.frame[lookup.frame["area_code"].isin(zones)]
    return rows.set_index("area_code")["district_name"]


def districts_of(lookup: Lookup, zones: set[str]) -> pd.Series:
    """Each LSOA's district code (E06–E09), for census tables and projections published per district."""
    rows = lookup.frame[lookup.frame["area_code"].isin(zones)]
    return rows.set_index("area_code")["district_code"]
