"""Which council the pack is for, and which data zones belong to it, checked across every input file.

Any file that names councils (a council name column, or S12 codes) says which zones are the council's; the
union of what they say is the council's set, and every file must cover it, or the import stops with the codes.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import pandas as pd

from analytics.importers.errors import ScotlandImportError, list_codes
from analytics.importers.readers import code_column, is_text_column, squash

NAME_HINTS = ("council", "localauthority", "laname", "caname", "ca2019name", "ca2011name")


@dataclass
class Source:
    """One input file's zones: `label` names it in messages ('SIMD file simd.csv')."""

    label: str
    frame: pd.DataFrame
    zone: str

    @property
    def zones(self) -> set[str]:
        return set(self.frame[self.zone].astype(str).str.strip())


def normalise(name: str) -> str:
    text = str(name).lower().replace("&", " and ")
    text = re.sub(r"\b(hscp|health and social care partnership|council|city council)\b", " ", text)
    return re.sub(r"[^a-z]", "", text)


def council_columns(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    """(name column, S12 code column) of a table, either may be None."""
    code = code_column(frame, "S12")
    name = next((c for c in frame.columns if any(h in squash(c) for h in NAME_HINTS) and c != code
                 and "hscp" not in squash(c) and is_text_column(frame[c])), None)
    if name is None:
        name = next((c for c in frame.columns if squash(c) in ("ca", "la", "area", "councilarea")
                     and is_text_column(frame[c])), None)
    return name, code


def resolve(council: str, sources: list[Source]) -> tuple[str, set[str]]:
    """The council's name as published and its data zones; unknown names list the councils that are there."""
    named = [(s, *council_columns(s.frame)) for s in sources]
    named = [(s, n, c) for s, n, c in named if n or c]
    if not named:
        raise ScotlandImportError("No input file says which council each data zone is in; add the geography "
                                  "lookup with --geography-lookup (datazone2011_geography_lookup_scotland.csv).")
    wanted, display, zones = normalise(council), {}, set()
    for source, name_col, code_col in named:
        frame = source.frame
        names = frame[name_col].astype(str).str.strip() if name_col else None
        hit = pd.Series(False, index=frame.index)
        if names is not None:
            display.update({normalise(n): n for n in names.unique() if n})
            hit |= names.map(normalise) == wanted
        if code_col:
            hit |= frame[code_col].astype(str).str.strip().str.upper() == council.strip().upper()
        zones |= set(frame.loc[hit, source.zone].astype(str).str.strip())
        if hit.any() and names is not None:
            display.setdefault("_chosen", names[hit].mode().iloc[0])
    if not zones:
        raise ScotlandImportError(_unknown_message(council, display))
    return display.get("_chosen", council.strip()), zones


def _unknown_message(council: str, display: dict[str, str]) -> str:
    known = sorted(v for k, v in display.items() if k != "_chosen" and normalise(v) != "scotland")
    close = difflib.get_close_matches(council, known, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (f"'{council}' is not a council in the input files.{hint} The councils they hold ({len(known)}): "
            f"{', '.join(known)}.")


def check_coverage(council: str, zones: set[str], sources: list[Source]) -> None:
    """Every file must hold every zone of the council; council-only files must hold no others."""
    problems = []
    for source in sources:
        have = source.zones
        missing = zones - have
        if missing:
            problems.append(f"- the {source.label} has no rows for {list_codes(missing)}")
        named = any(council_columns(source.frame))
        extra = have - zones
        if extra and not named and len(have & zones) >= 0.5 * len(have):
            problems.append(f"- the {source.label} holds data zones that no other file places in {council}: "
                            f"{list_codes(extra)}")
    if problems:
        raise ScotlandImportError(
            f"The input files do not agree on {council}'s {len(zones)} data zones (2011 data zones, S01…):\n"
            + "\n".join(problems)
            + "\nUse files for the same data zone vintage (2011) and the same council, or correct the files.")
