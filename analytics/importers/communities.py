"""Communities (default Scotland-wide shares, or a local file) and need indicators for the pack."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analytics.config import AGE_BANDS, ALL_LOCALITIES, COMMUNITY_KINDS, SEXES
from analytics.importers import ages
from analytics.importers.errors import ScotlandImportError

DEFAULTS = Path(__file__).resolve().parent / "defaults"
COMMUNITY_COLUMNS = ["community", "kind", "locality", "population", "population_low", "population_high",
                     "target_min", "source"]
SHARE_COLUMNS = ["community", "kind", "share", "share_low", "share_high", "base", "target_min_per_10k", "source"]
NEED_COLUMNS = ["indicator", "label", "sex", "age_band", "rate", "unit", "source"]


def _read(path: Path, what: str, needed: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ScotlandImportError(f"The {what} {path} cannot be read as a UTF-8 CSV file ({exc}).") from exc
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ScotlandImportError(f"The {what} {path} lacks the column(s) {', '.join(missing)}; it needs: "
                                  f"{', '.join(needed)}.")
    return frame.apply(lambda s: s.str.strip())


def communities(path: Path | None, single: pd.DataFrame, localities: pd.Series,
                defaults: str = "communities_scotland.csv") -> pd.DataFrame:
    """Rows per community × locality plus 'All'. `single`: zone × single ages 0…90 (both sexes summed);
    `defaults`: the national shares file in defaults/ used when no local file is given."""
    path = path or DEFAULTS / defaults
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns.str.strip()
    if "share" not in header and "target_min_per_10k" not in header:
        return _local_communities(path, set(localities))
    shares = _read(path, "communities file", SHARE_COLUMNS)
    _check_kinds(shares, path)
    by_locality = single.groupby(localities.reindex(single.index).to_numpy()).sum()
    rows = [row for _, share in shares.iterrows() for row in _share_rows(share, by_locality)]
    frame = pd.DataFrame(rows, columns=COMMUNITY_COLUMNS)
    return pd.concat([frame, _all_rows(frame)], ignore_index=True)


def _share_rows(share: pd.Series, by_locality: pd.DataFrame) -> list[list]:
    years = ages.base_ages(share["base"])
    rows = []
    for locality, counts in by_locality.iterrows():
        base = float(counts.iloc[years].sum())
        def part(column: str) -> int | str:  # noqa: E306 - a share of the base, or blank when none is given
            return int(np.floor(float(share[column]) * base + 0.5)) if share[column] else ""
        target = (max(1, int(np.floor(float(share["target_min_per_10k"]) * base / 10000 + 0.5)))
                  if share["target_min_per_10k"] else "")
        rows.append([share["community"], share["kind"], locality, part("share"), part("share_low"),
                     part("share_high"), target, share["source"]])
    return rows


def _all_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """'All' = the sum of the locality rows (blank stays blank)."""
    numeric = ["population", "population_low", "population_high", "target_min"]
    out = []
    for (community, kind, source), rows in frame.groupby(["community", "kind", "source"], sort=False):
        sums = [int(pd.to_numeric(rows[c]).sum()) if (rows[c] != "").all() else "" for c in numeric]
        out.append([community, kind, ALL_LOCALITIES, *sums, source])
    return pd.DataFrame(out, columns=COMMUNITY_COLUMNS)


def _check_kinds(frame: pd.DataFrame, path: Path) -> None:
    bad = sorted(set(frame["kind"]) - set(COMMUNITY_KINDS))
    if bad:
        raise ScotlandImportError(f"The communities file {path} has kind values {bad}; use "
                                  f"{' or '.join(COMMUNITY_KINDS)}.")


def _local_communities(path: Path, localities: set[str]) -> pd.DataFrame:
    """A communities file in the contract's own format, checked against the pack's localities."""
    frame = _read(path, "communities file", ["community", "kind", "locality", "population", "source"])
    _check_kinds(frame, path)
    unknown = sorted(set(frame["locality"]) - localities - {ALL_LOCALITIES})
    if unknown:
        raise ScotlandImportError(f"The communities file {path} names localities that are not in the pack: "
                                  f"{', '.join(unknown)}; use {', '.join(sorted(localities))} or All.")
    for column in COMMUNITY_COLUMNS:
        frame[column] = frame.get(column, "")
    return frame[COMMUNITY_COLUMNS + [c for c in frame.columns if c not in COMMUNITY_COLUMNS]]


def need_indicators(path: Path | None) -> pd.DataFrame:
    """The default six indicators, or a local file in the contract's format (every sex × band checked)."""
    path = path or DEFAULTS / "need_indicators.csv"
    frame = _read(path, "need indicators file", NEED_COLUMNS)
    bad_sex = sorted(set(frame["sex"]) - set(SEXES))
    bad_band = sorted(set(frame["age_band"]) - set(AGE_BANDS))
    rates = pd.to_numeric(frame["rate"], errors="coerce")
    if bad_sex or bad_band or rates.isna().any() or (rates < 0).any():
        raise ScotlandImportError(f"The need indicators file {path} needs sex F or M, age bands "
                                  f"{AGE_BANDS[0]} … {AGE_BANDS[-1]} and rates of 0 or more "
                                  f"(found sex {bad_sex or 'ok'}, bands {bad_band or 'ok'}).")
    return frame
