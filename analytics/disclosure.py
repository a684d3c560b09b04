"""Disclosure control for viewers: cell-key perturbation, so that no count of people under the pack's threshold
can be read, or worked back by subtracting one published figure from another.

**Why not suppression alone.** Withholding small cells (and a second cell beside each, so a total does not give
it back) protects one table. A viewer of this dashboard builds tables at will: every method, partner, locality,
community and month is a filter, so "all methods" minus the five methods' tables, or one month's figures minus
the month before's, or a total minus its shown parts, gave exact counts of one to four people (issue 18: 72
recoveries across method filters, 27 across partners and 18 across days on the demo, with suppression in place).

**The design** (as ONS's Census 2021 table builder and the ABS TableBuilder; Fraser & Wooton 2005, "A proposed
method for confidentialising tabular output to protect against differencing", ABS; ONS 2023, "Protecting
personal data in Census 2021 results"):

1. Every person counted carries a fixed random **record key**, uniform on 0 … 2²⁰ − 1, made when the store is
   built from the record's id and the pack's secret (`record_key_sql`): responses, and Citizens Panel members. An
   activity carries one too, for head counts of participants (an activity's participants are counted together).
2. A cell's **cell key** is the sum of its records' keys modulo 2²⁰: the same people give the same key, in any
   table, on any page, on any day. Different people give independent keys.
3. A published **perturbation table** (`ptable`) turns (count, cell key) into the published count:
   - 0 stays 0;
   - a count c of 1 … T − 1 (T, the pack's threshold) becomes T with probability c / T, else 0, so no count
     from 1 to T − 1 is ever published and the published count is right on average;
   - a count c ≥ T moves by d with probability ∝ 0.3^|d|, |d| ≤ min(8, c − T): never below T, symmetric, so
     again right on average. Away from the threshold, d = 0 for 54% of cells, ±1 for 32%, ±2 for 10%, ±3 or
     more for 4%; the variance is 1.22 and the maximum adjustment 8 (counts under T: T − 1).
   A published 0 is shown as "withheld" (fewer than T); nothing is withheld besides.
4. Every rate, share, ratio, interval and flag a viewer sees is computed from published counts only (plus the
   population, which is public, and a design effect rounded to one decimal over a whole table), so nothing
   shown carries more about the people than the published counts do.

**Against the attacks of issue 18.**
- *Across filters, partners, localities and months.* Two views of the same people show the same value (same
  key); views that differ by a few people have independent keys, so their difference is the true difference
  plus the difference of two adjustments (variance 2.4, spread over −16 … +16): a "3" worked out that way may be
  0 to 19, and the attacker cannot tell which. Months, not days, are the finest period a viewer can choose.
- *Known zeros and a table's margins.* A withheld cell is no longer paired with a second one, and a shown cell
  is off by an unknown amount; a linear-programming audit that treats each published count as "its true value
  lies in the set the perturbation table allows" finds no count under the threshold on the demo (bench/attack.py).
  Pinning one needs two or more adjustments at their extremes at once (about 3 in 10⁵ each).
- *Across pages.* Weighting and the Citizens Panel weigh published counts, not exact ones; every table of the
  same respondents has one base (aged 15+; unknown age or sex handled alike).
- *What is left.* Averaging many different differences that all isolate the same few people narrows an estimate
  (each difference has independent noise) without proving it: the number of such views is limited by the
  filters offered, and the attacker never learns which guess is right. ONS accepts the same residual risk.

Signed-in editors may see exact counts (`exact=True`): they manage the ledger. Those figures are marked
"unprotected: do not publish" wherever they are shown or downloaded (analytics/ui.py).
"""
from __future__ import annotations

from functools import cache
from typing import Sequence

import numpy as np
import pandas as pd

WITHHELD = "withheld"
KEY_SPACE = 2**20  # record and cell keys: a finer grid than ONS's 256 lets the rare tails be represented exactly
MAX_ADJUSTMENT = 8  # the largest move of a count at or above the threshold
DECAY = 0.3  # P(d) ∝ DECAY^|d|: a two-sided geometric (discrete Laplace) adjustment, truncated
UNPROTECTED = "unprotected: do not publish"


def record_key_sql(id_column: str, kind: str) -> str:
    """SQL for a record's key from its id and the bound `$secret` (md5 is stable across DuckDB versions; the
    secret keeps a viewer who guesses ids from computing keys)."""
    return f"CAST(md5_number($secret || '{kind}:' || {id_column}) % {KEY_SPACE} AS BIGINT)"


@cache
def _cdf(reach: int) -> np.ndarray:
    """Cumulative probabilities of the adjustments −reach … +reach."""
    d = np.arange(-reach, reach + 1)
    weights = DECAY ** np.abs(d)
    return np.cumsum(weights) / weights.sum()


def adjustments(count: int, threshold: int) -> dict[int, float]:
    """One row of the perturbation table: {published count: probability} for a true `count`."""
    if count <= 0:
        return {0: 1.0}
    if count < threshold:
        return {0: 1 - count / threshold, threshold: count / threshold}
    reach = min(MAX_ADJUSTMENT, count - threshold)
    probs = np.diff(np.concatenate([[0.0], _cdf(reach)]))
    return {count + d: float(p) for d, p in zip(range(-reach, reach + 1), probs)}


def ptable(threshold: int, up_to: int | None = None) -> pd.DataFrame:
    """The perturbation table for counts 0 … `up_to` (default: where rows stop changing shape, threshold + 8):
    columns count, published, probability. Every count above it moves as its last row does."""
    up_to = threshold + MAX_ADJUSTMENT if up_to is None else up_to
    rows = [(c, v, p) for c in range(up_to + 1) for v, p in adjustments(c, threshold).items()]
    return pd.DataFrame(rows, columns=["count", "published", "probability"])


def possible_counts(published: int, threshold: int) -> tuple[int, int]:
    """The range of true counts the table allows behind a published count (what an attacker may assume)."""
    if published <= 0:
        return 0, threshold - 1
    if published == threshold:
        return 1, threshold + MAX_ADJUSTMENT
    # c moves down to v only if c − v ≤ c − threshold is allowed, i.e. c ≥ (v + threshold) / 2
    return max(-(-(published + threshold) // 2), published - MAX_ADJUSTMENT), published + MAX_ADJUSTMENT


def perturb(counts: Sequence[float], cell_keys: Sequence[float], threshold: int) -> np.ndarray:
    """Published counts for true `counts` with their cell keys (sums of record keys; taken modulo the key space).
    A threshold of 0 (hand-worked tests only: packs take 1 … 100) publishes the true counts."""
    c = np.rint(np.asarray(counts, dtype=float)).astype(np.int64)
    if threshold <= 0:
        return c
    u = (np.asarray(cell_keys, dtype=np.float64).astype(np.int64) % KEY_SPACE) / KEY_SPACE
    out = np.zeros(len(c), dtype=np.int64)
    small = (c > 0) & (c < threshold)
    out[small] = np.where(u[small] < c[small] / threshold, threshold, 0)
    large = c >= threshold
    reach = np.minimum(MAX_ADJUSTMENT, c - threshold)
    for r in np.unique(reach[large]):
        rows = large & (reach == r)
        d = np.searchsorted(_cdf(int(r)), u[rows], side="right") - r
        out[rows] = c[rows] + d
    return out


def protect(frame: pd.DataFrame, count: str, threshold: int, key: str = "ckey", derived: Sequence[str] = (),
            exact: bool = False) -> pd.DataFrame:
    """Publish `count`: perturbed by its cell key column `key` (dropped), then withheld (NaN, with a boolean
    `withheld` column) where the published count is under the threshold, with its `derived` columns. Derived
    figures should be computed from the published count afterwards; `derived` blanks any computed before.
    `exact=True` (signed-in editors only) publishes the true counts and withholds nothing."""
    out = frame.copy()
    if not exact:
        out[count] = perturb(out[count].fillna(0), out[key].fillna(0), threshold).astype(float)
    out = out.drop(columns=[key])
    return withhold(out, count, 0 if exact else threshold, derived)


def withhold(frame: pd.DataFrame, count: str, threshold: int, derived: Sequence[str] = ()) -> pd.DataFrame:
    """Blank `count` and `derived` where the (published) count is under the threshold; adds `withheld`."""
    out = frame.copy()
    hide = (out[count].fillna(0) < threshold).to_numpy() if threshold > 0 else np.zeros(len(out), bool)
    out["withheld"] = hide
    for column in (count, *derived):
        out[column] = out[column].astype(float).where(~hide, np.nan)
    return out

