"""LSOA 2011 ↔ LSOA 2021: the ONS best-fit lookup, and moving figures from one generation to the other.

Most LSOAs are unchanged (U). A 2011 LSOA split (S) into several 2021 LSOAs, or several 2011 LSOAs merged (M)
into one, or an irregular change (X), appear as several rows of the lookup. Counts are shared from each source
LSOA over its counterparts by weights (residents where known, else equally) and summed, so totals are kept;
ranks are averaged over the counterparts (a split LSOA takes the mean rank of its parts, a merged one the rank
of the whole).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.importers.england_areas import LSOA, generation_of
from analytics.importers.errors import PackImportError, list_codes
from analytics.importers.readers import find_column, read_table

GENERATIONS = (2011, 2021)


@dataclass
class Changes:
    """`pairs`: one row per (lsoa11, lsoa21) with `change` (U, S, M, X or blank)."""

    pairs: pd.DataFrame
    path: Path

    def codes(self) -> dict[int, set[str]]:
        return {2011: set(self.pairs["lsoa11"]), 2021: set(self.pairs["lsoa21"])}

    def counterparts(self, source: int, target: int) -> pd.DataFrame:
        """Columns source, target: which source-generation LSOAs each target-generation LSOA draws on."""
        return pd.DataFrame({"source": self.pairs[f"lsoa{source % 100}"],
                             "target": self.pairs[f"lsoa{target % 100}"]}).drop_duplicates()


def read_changes(path: Path) -> Changes:
    """The ONS 'LSOA (2011) to LSOA (2021) to LAD (2022) best fit lookup' or any file with both code columns."""
    table = read_table(path, "LSOA 2011 ↔ 2021 lookup")
    frame = table.frame
    coded = [c for c in frame.columns if frame[c].astype(str).str.match(rf"^{LSOA}\d{{6}}$").mean() > 0.9]
    by_year = {generation_of(c, set()): c for c in coded}
    if set(by_year) != set(GENERATIONS):
        raise PackImportError(f"The LSOA 2011 ↔ 2021 lookup {path} needs one column of 2011 LSOA codes and one of "
                              f"2021 codes, named so (LSOA11CD, LSOA21CD); found code columns: "
                              f"{', '.join(coded) or 'none'}.")
    change = find_column(frame, "change") or find_column(frame, "chgind")
    pairs = pd.DataFrame({"lsoa11": frame[by_year[2011]].str.strip(), "lsoa21": frame[by_year[2021]].str.strip(),
                          "change": frame[change].str.strip().str.upper() if change else ""})
    return Changes(pairs.drop_duplicates(["lsoa11", "lsoa21"]).reset_index(drop=True), path)


def _pairs_for(changes: Changes, source: int, target: int, targets: set[str], what: str) -> pd.DataFrame:
    pairs = changes.counterparts(source, target)
    pairs = pairs[pairs["target"].isin(targets)]
    missing = targets - set(pairs["target"])
    if missing:
        raise PackImportError(f"The LSOA 2011 ↔ 2021 lookup {changes.path.name} has no row for the LSOA {target} "
                              f"code(s) {list_codes(missing)}, so the {what} (LSOA {source}) cannot be moved to "
                              f"them; use a lookup that covers every LSOA of the partnership.")
    return pairs


def _check_sources(pairs: pd.DataFrame, have: pd.Index, what: str, source: int) -> None:
    absent = set(pairs["source"]) - set(have)
    if absent:
        raise PackImportError(f"The {what} has no rows for the LSOA {source} code(s) {list_codes(absent)}, which "
                              "the LSOA 2011 ↔ 2021 lookup pairs with the partnership's LSOAs; use the file for "
                              "all of England, or one that covers the whole partnership.")


def convert_counts(values: pd.DataFrame, changes: Changes, source: int, target: int, targets: set[str],
                   weights: pd.Series | None, what: str) -> pd.DataFrame:
    """Counts per source-generation LSOA (index) → per target LSOA (index), keeping every source's total.

    A source LSOA paired with several targets (a 2011 LSOA split in 2021) is shared among them in proportion
    to `weights` (e.g. residents; per target code), equally where weights are missing or all zero.
    """
    pairs = _pairs_for(changes, source, target, targets, what)
    # A source LSOA may also be shared with targets outside the partnership (a merge across its edge): those
    # parts are kept out, so only the partnership's share of it is counted.
    every = changes.counterparts(source, target)
    every = every[every["source"].isin(pairs["source"])]
    _check_sources(every, values.index, what, source)
    w = (weights.reindex(every["target"]).fillna(0).to_numpy(dtype=float) if weights is not None
         else np.ones(len(every)))
    every = every.assign(w=w)
    totals = every.groupby("source")["w"].transform("sum")
    counts = every.groupby("source")["w"].transform("count")
    every["share"] = np.where(totals > 0, every["w"] / totals.where(totals > 0, 1), 1 / counts)
    every = every[every["target"].isin(targets)]
    moved = values.loc[every["source"]].mul(every["share"].to_numpy(), axis=0)
    moved.index = pd.Index(every["target"].to_numpy(), name=values.index.name)
    return moved.groupby(level=0).sum()


def convert_ranks(values: pd.DataFrame, changes: Changes, source: int, target: int, targets: set[str],
                  what: str) -> pd.DataFrame:
    """Ranks per source LSOA → per target LSOA: the mean over the target's counterparts (one for U and M)."""
    pairs = _pairs_for(changes, source, target, targets, what)
    _check_sources(pairs, values.index, what, source)
    moved = values.loc[pairs["source"]].set_axis(pd.Index(pairs["target"].to_numpy(), name=values.index.name))
    return moved.groupby(level=0).mean()


def split_counts(changes: Changes, source: int, target: int, targets: set[str]) -> int:
    """How many target LSOAs draw on more than one source LSOA or share one (for the notes)."""
    pairs = changes.counterparts(source, target)
    pairs = pairs[pairs["target"].isin(targets)]
    many = pairs.groupby("target")["source"].transform("count") > 1
    shared = pairs.groupby("source")["target"].transform("count") > 1
    return int(pairs.loc[many | shared, "target"].nunique())
