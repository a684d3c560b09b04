"""Small-number suppression, applied in analytics/ before any figure reaches a page, hover or download.

Primary: a count of people below the pack's threshold (including 0) is withheld, with every figure computed
from it (a share, rate or ratio gives the count back when its denominator is shown).
Secondary: where cells add up to a total that is shown, a single withheld cell could be worked back by
subtraction, so the next smallest cell in that row or column is withheld too, repeated until no line of the
table has exactly one withheld cell.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

WITHHELD = "withheld"


def suppress(frame: pd.DataFrame, count: str, threshold: int, derived: Sequence[str] = (),
             additive: Sequence[str] | None = None, totals: Sequence[Sequence[str]] = ()) -> pd.DataFrame:
    """Withhold `count` and its `derived` columns where count < threshold; adds a boolean `withheld` column.

    `additive`: the grouping columns of a table whose cells add up to shown totals (each of them in turn is
    the direction of a sum: e.g. ['locality', 'sex'] protects both the locality totals and the sex totals).
    None means the cells are not additive (overlapping groups such as communities), so no secondary step.
    `totals`: further groupings whose sums are shown elsewhere, e.g. [['locality']] for neighbourhoods that
    add up to locality figures; [] is the grand total.
    """
    out = frame.copy()
    hide = (out[count].fillna(0) < threshold).to_numpy()
    if additive is not None and len(out):
        # Finer lines first: settling a locality before the grand total withholds fewer cells.
        lines = [list(t) for t in totals] + [[d for d in additive if d != along] for along in additive]
        hide = _secondary(out, count, hide, lines)
    out["withheld"] = hide
    for column in (count, *derived):
        out[column] = out[column].astype(float).where(~hide, np.nan)
    return out


def suppress_also(frame: pd.DataFrame, count: str, threshold: int, additive: Sequence[str] | None = None,
                  totals: Sequence[Sequence[str]] = ()) -> pd.DataFrame:
    """Withhold a second count of people in a table already suppressed (participants beside respondents) by the
    same rules; `withheld` keeps describing the first count."""
    first = frame["withheld"] if "withheld" in frame else None
    out = suppress(frame, count, threshold, (), additive, totals)
    return out.assign(withheld=first) if first is not None else out.drop(columns="withheld")


def _secondary(frame: pd.DataFrame, count: str, hide: np.ndarray, groupings: list[list[str]]) -> np.ndarray:
    """Cells that share the values of a grouping form a line adding up to a shown total ([] = the whole table)."""
    hide = hide.copy()
    values = frame[count].fillna(0).to_numpy(dtype=float)
    lines = [frame.groupby(g, dropna=False, sort=False).ngroup().to_numpy() if g else np.zeros(len(frame), int)
             for g in groupings]
    changed = True
    while changed:
        changed = False
        for line in lines:
            for group in np.unique(line[hide]):
                members = np.flatnonzero(line == group)
                if hide[members].sum() == 1 and len(members) > 1:
                    shown = members[~hide[members]]
                    hide[shown[np.argmin(values[shown])]] = True
                    changed = True
    return hide


def safe_total(values: pd.Series, threshold: int) -> float:
    """A total, withheld itself when it is under the threshold."""
    total = float(values.sum())
    return total if total >= threshold else np.nan
