"""Reach over time and side by side (issue 20): is each group's representation getting better or worse, quarter
by quarter, and how do two places compare?

Each quarter's table is reach.representation on that quarter's months, so its counts are published as every
other count is (cell-key perturbation: a quarter is a run of whole months, the same door the month filter already
opens) and its flags are that quarter's own family (Holm across its groups).

**Change.** Two flags from two quarters do not say that representation changed: a ratio of 0.79 ("under") next
to one of 0.81 ("in line") is no change at all. A group's change between the first and last quarter shown is
tested on its ratio: z = (r₂ − r₁) / √(se₁² + se₂²), each se read off the quarter's 95% design-based interval
(width / 3.92, so clustering and estimated denominators carry over), the two quarters' respondents being different
people. 'rose' or 'fell' needs Holm's rejection at 5% across the groups compared; anything else is 'no clear
change'. Checked by simulation (tests/test_trends.py): two quarters of representative clustered engagement give
a change somewhere in at most 1 run in 20, and a group heard at half its rate in one quarter and in full in the
other is found.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from analytics import design, reach
from analytics.db import Store
from analytics.disclosure import WITHHELD

NO_CHANGE, ROSE, FELL = "no clear change", "rose", "fell"
UNKNOWN, UNTESTED = "not known (withheld)", "not tested (no interval)"
COMPARE = ("locality", "age_group+sex", "quintile", "community")


def quarters(con: Store, **given: str) -> list[tuple[str, str, str]]:
    """(label, first day, last day) of each calendar quarter the filters' period and the ledger share; a quarter
    the period cuts is labelled with the months it keeps ('2025 Q3 (Sep)')."""
    f, seen = reach.filters(**given), reach.ledger_options(con)
    start = max(f["date_from"], seen["first_date"][0][:8] + "01")
    end = min(f["date_to"], reach.filters(date_to=seen["last_date"][0])["date_to"])
    if start > end:
        return []
    out = []
    for q in pd.period_range(start, end, freq="Q"):
        first, last = max(start, q.start_time.date().isoformat()), min(end, q.end_time.date().isoformat())
        label = f"{q.year} Q{q.quarter}"
        kept = pd.period_range(first, last, freq="M")
        if len(kept) < 3:
            label += " (" + "–".join(dict.fromkeys([kept[0].strftime("%b"), kept[-1].strftime("%b")])) + ")"
        out.append((label, first, last))
    return out


def over_time(con: Store, dimension: str = "locality", min_age: int = 15, exact: bool = False,
              **given: str) -> pd.DataFrame:
    """reach.representation for each quarter, stacked. Columns: quarter, then representation's columns."""
    f = reach.filters(**given)
    parts = [reach.representation(con, dimension, min_age, exact, **{**f, "date_from": first, "date_to": last})
             .assign(quarter=label) for label, first, last in quarters(con, **f)]
    if not parts:
        return reach.representation(con, dimension, min_age, exact, **f).iloc[0:0].assign(quarter="")
    table = pd.concat(parts, ignore_index=True)
    return table[["quarter", *[c for c in table.columns if c != "quarter"]]]


def default_groups(table: pd.DataFrame, most: int = 4) -> list[str]:
    """The groups a trend chart starts with: those flagged under in the most quarters, then over, then the rest,
    `most` of them (a chart of a dozen dodged series is unreadable; the viewer can add others)."""
    flags = table.assign(under=table["flag"].eq("under"), over=table["flag"].eq("over"))
    score = flags.groupby("group", sort=False)[["under", "over"]].sum()
    return list(score.sort_values(["under", "over"], ascending=False, kind="stable").index[:most])


def _se(table: pd.DataFrame, k: str) -> np.ndarray:
    """Quarter k's standard error of the ratio, read off its 95% interval."""
    return ((table[f"ratio_high{k}"] - table[f"ratio_low{k}"]) / (2 * sps.norm.ppf(0.975))).to_numpy(float)


def changes(table: pd.DataFrame) -> pd.DataFrame:
    """Each group's ratio and flag in the first and the last quarter of an over_time table, and whether the ratio
    rose or fell (the module's test, Holm across the groups tested). Columns: group, first_quarter, first_ratio,
    first_flag, last_quarter, last_ratio, last_flag, trend."""
    cols = ["group", "first_quarter", "first_ratio", "first_flag", "last_quarter", "last_ratio", "last_flag",
            "trend"]
    order = list(dict.fromkeys(table["quarter"]))
    if len(order) < 2:
        return pd.DataFrame(columns=cols)
    one, two = (table[table["quarter"] == q].set_index("group") for q in (order[0], order[-1]))
    both = one.join(two, suffixes=("_1", "_2"), how="inner")
    r1, r2 = both["ratio_1"].to_numpy(float), both["ratio_2"].to_numpy(float)
    se = np.hypot(_se(both, "_1"), _se(both, "_2"))
    hidden = (both["withheld_1"] | both["withheld_2"]).to_numpy(bool)
    tested = ~hidden & np.isfinite(r1) & np.isfinite(r2) & np.isfinite(se) & (se > 0)
    p = np.ones(len(both))
    p[tested] = 2 * sps.norm.sf(np.abs(r2[tested] - r1[tested]) / se[tested])
    reject = np.zeros(len(both), bool)
    reject[tested] = design.holm(p[tested])
    trend = np.select([hidden, ~tested, reject & (r2 > r1), reject & (r2 < r1)],
                       [UNKNOWN, UNTESTED, ROSE, FELL], NO_CHANGE)
    return pd.DataFrame({"group": both.index, "first_quarter": order[0], "first_ratio": r1,
                         "first_flag": both["flag_1"].to_numpy(), "last_quarter": order[-1], "last_ratio": r2,
                         "last_flag": both["flag_2"].to_numpy(), "trend": trend}, columns=cols)


def side_by_side(con: Store, dimension: str = "age_group+sex", places: tuple[str, str] = ("All", "All"),
                 min_age: int = 15, exact: bool = False, **given: str) -> pd.DataFrame:
    """Two places' representation tables on one row per group ('All' = the whole partnership). Columns: group,
    then for each place k in 1, 2: respondents_k, ratio_k, ratio_low_k, ratio_high_k, flag_k."""
    keep = ["group", "respondents", "ratio", "ratio_low", "ratio_high", "flag"]
    one, two = (reach.representation(con, dimension, min_age, exact, **{**given, "locality": place})[keep]
                for place in places)
    order = list(dict.fromkeys([*one["group"], *two["group"]]))
    both = one.merge(two, on="group", how="outer", suffixes=("_1", "_2")).set_index("group").loc[order]
    return both.reset_index().fillna({"flag_1": WITHHELD, "flag_2": WITHHELD})
