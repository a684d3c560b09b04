"""An automated attacker: what a determined viewer can prove about counts under the threshold from what the
dashboard publishes (issue 18).

    python -m bench.attack [--pack data/demo] [--db PATH] [--protection perturb|suppress]

It sees only published tables (analytics/reach.py: counts, NaN where withheld) and knows the published
perturbation table, so each published count stands for a *range* of true counts (disclosure.possible_counts;
a withheld count is 0 … threshold − 1). With protection switched off (`suppress`: exact counts, those under the
threshold withheld — the design issue 18 found wanting) a shown count is exactly itself. It claims a recovery only
when the ranges leave one true value, under the threshold: a proof, not a guess. The families:

1. partitions — a filter's values split everyone (one method, one partner and one home locality per respondent;
   one month per answer): for every cell, table(All) = Σ table(value), so each part's range narrows to
   [low(All) − Σ high(others), high(All) − Σ low(others)]. Run for method, partner, locality and month, each
   against "All" and under each method (a filter stepped to its neighbours);
2. months — the same table to the end of one month and of the next: the people who answered in the later month;
   and days — to one day and the next (as issue 18 found: `?to=2025-09-20` against `?to=2025-09-21`), which
   the filters now read as whole months;
3. linear programming — a two-way table, its two one-way tables and its total, all of the one base: cells are
   unknowns within their ranges, each line adding up to its margin's unknown (scipy HiGHS); every cell under the
   threshold that the bounds pin to one whole number is a recovery.

Each attack returns records {attack, table, filters, cell, value, terms}: `terms` is a list of (sign, filters)
whose signed sum of the true count of `cell` is what the attacker claims `value` is (the test checks it against
reach.respondent_cells). `naive` counts the differences a careless attacker would read as counts under the
threshold (right or wrong, they prove nothing under perturbation).
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from analytics import config, disclosure, reach
from analytics.db import Store

TABLES = ("locality", "quintile", "sex", "age_group+sex", "community")
TWO_WAY = ("locality+sex", "age_group+sex", "locality+quintile")


def published(con: Store, dimension: str, protection: str = "perturb", **given: str) -> pd.Series:
    """What a viewer sees of representation(dimension): respondents (NaN = withheld) keyed by the dimension values
    as strings. `protection='suppress'` is the switched-off design: exact counts, withheld under the threshold."""
    dims = dimension.split("+")
    table = reach.representation(con, dimension, exact=protection == "suppress", **given)
    values = table["respondents"].to_numpy(float)
    if protection == "suppress":
        values = np.where(values < reach.threshold(con), np.nan, values)
    keys = [tuple(str(v) for v in row) for row in table[dims].itertuples(index=False)]
    return pd.Series(values, index=pd.MultiIndex.from_tuples(keys) if len(dims) > 1 else pd.Index([k[0] for k in keys]))


def ranges(values: pd.Series | np.ndarray, limit: int, protection: str) -> tuple[np.ndarray, np.ndarray]:
    """The true counts each published value allows: (low, high)."""
    v = np.asarray(values, float)
    if protection == "suppress":
        return np.where(np.isnan(v), 0, v), np.where(np.isnan(v), limit - 1, v)
    pairs = [disclosure.possible_counts(0 if np.isnan(x) else int(x), limit) for x in v]
    return np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], float)


def _pinned(low: float, high: float, limit: int) -> int | None:
    """The one whole number in [low, high] when there is exactly one and it is under the threshold."""
    lo, hi = math.ceil(low - 1e-6), math.floor(high + 1e-6)
    return lo if lo == hi and 0 <= lo < limit else None


def _cell(dimension: str, key) -> dict[str, str]:
    return dict(zip(dimension.split("+"), key if isinstance(key, tuple) else (key,)))


def _record(attack: str, dimension: str, target: dict, key, value: float, terms: list) -> dict:
    return {"attack": attack, "table": dimension, "filters": target, "cell": _cell(dimension, key),
            "value": int(round(value)), "terms": terms}


def month_filters(con: Store) -> list[dict[str, str]]:
    options = reach.ledger_options(con)
    return [{"date_from": f"{m}-01", "date_to": f"{m}-01"}
            for m in reach.months(options["first_date"][0], options["last_date"][0])]


def partition(con: Store, name: str, parts: list[dict], tables=TABLES, bases=({},),
              protection: str = "perturb") -> dict:
    """Every part of a partition of "All" narrowed by the other parts and the whole (family 1)."""
    limit, attempts, naive, found = reach.threshold(con), 0, 0, []
    for base in bases:
        for dimension in tables:
            if "locality" in dimension and any("locality" in p for p in parts):
                continue  # a locality table under a locality filter is one row of the whole: nothing to subtract
            whole = published(con, dimension, protection, **base)
            grid = pd.DataFrame({i: published(con, dimension, protection, **base, **p) for i, p in enumerate(parts)})
            grid = grid.reindex(whole.index)
            low_all, high_all = ranges(whole, limit, protection)
            low, high = ranges(grid.to_numpy().ravel(), limit, protection)
            low, high = low.reshape(grid.shape), high.reshape(grid.shape)
            for i in range(grid.shape[1]):
                others_low, others_high = low.sum(axis=1) - low[:, i], high.sum(axis=1) - high[:, i]
                lo = np.maximum(low[:, i], low_all - others_high)
                hi = np.minimum(high[:, i], high_all - others_low)
                naive_diff = whole.to_numpy(float) - np.nansum(np.delete(grid.to_numpy(float), i, axis=1), axis=1)
                naive += int(((naive_diff >= 1) & (naive_diff < limit)).sum())
                for r, key in enumerate(grid.index):
                    attempts += 1
                    if (value := _pinned(lo[r], hi[r], limit)) is not None:
                        found.append(_record(f"partition-{name}", dimension, {**base, **parts[i]}, key, value,
                                             [(1, {**base, **parts[i]})]))
    return {"attempts": attempts, "records": found, "naive": naive}


def months(con: Store, tables=TABLES, protection: str = "perturb") -> dict:
    """Tables to the end of one month and the next, differenced (family 2)."""
    limit, attempts, naive, found = reach.threshold(con), 0, 0, []
    ends = [p["date_to"] for p in month_filters(con)]
    for dimension in tables:
        seen = {end: published(con, dimension, protection, date_to=end) for end in ends}
        for before, after in zip(ends, ends[1:]):
            a, b = seen[after].align(seen[before])
            (low_a, high_a), (low_b, high_b) = ranges(a, limit, protection), ranges(b, limit, protection)
            diff = (a - b).to_numpy(float)
            naive += int(((diff >= 1) & (diff < limit)).sum())
            for r, key in enumerate(a.index):
                attempts += 1
                if (value := _pinned(low_a[r] - high_b[r], high_a[r] - low_b[r], limit)) is not None:
                    found.append(_record("months", dimension, {"answered_in": after[:7]}, key, value,
                                         [(1, {"date_to": after}), (-1, {"date_to": before})]))
    return {"attempts": attempts, "records": found, "naive": naive}


def days(con: Store, tables=TABLES, count: int = 8, protection: str = "perturb") -> dict:
    """Tables to one day and the next, for the last `count` days of the ledger, differenced (family 2)."""
    limit, attempts, found = reach.threshold(con), 0, []
    last = pd.Timestamp(reach.ledger_options(con)["last_date"][0])
    ends = [(last - pd.Timedelta(days=n)).strftime("%Y-%m-%d") for n in range(count, -1, -1)]
    for dimension in tables:
        seen = {end: published(con, dimension, protection, date_to=end) for end in ends}
        for before, after in zip(ends, ends[1:]):
            a, b = seen[after].align(seen[before])
            attempts += len(a)
            if a.equals(b):  # one month to the filters: the same table twice, nothing to learn about a day
                continue
            (low_a, high_a), (low_b, high_b) = ranges(a, limit, protection), ranges(b, limit, protection)
            for r, key in enumerate(a.index):
                if (value := _pinned(low_a[r] - high_b[r], high_a[r] - low_b[r], limit)) is not None:
                    found.append(_record("days", dimension, {"answered_on": after}, key, value,
                                         [(1, {"date_to": after}), (-1, {"date_to": before})]))
    return {"attempts": attempts, "records": found}


def lp_bounds(cell_low: np.ndarray, cell_high: np.ndarray, rows: tuple[np.ndarray, np.ndarray],
              cols: tuple[np.ndarray, np.ndarray], total: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest value of each cell of an r × c grid whose cells lie in [cell_low, cell_high], whose rows
    and columns add up to margins within their (low, high) ranges, and whose margins add up to a total within
    its range. Variables: the r·c cells, then the r row and c column margins."""
    r, c = cell_low.shape
    n = r * c + r + c
    eq = []
    for i in range(r):  # Σ_j x_ij − row_i = 0
        row = np.zeros(n)
        row[i * c:(i + 1) * c], row[r * c + i] = 1, -1
        eq.append(row)
    for j in range(c):  # Σ_i x_ij − col_j = 0
        col = np.zeros(n)
        col[j:r * c:c], col[r * c + r + j] = 1, -1
        eq.append(col)
    tot = np.zeros(n)
    tot[r * c:r * c + r] = 1  # Σ rows within the total's range
    bounds = list(zip(np.r_[cell_low.ravel(), rows[0], cols[0]], np.r_[cell_high.ravel(), rows[1], cols[1]]))
    kw = dict(A_eq=np.array(eq), b_eq=np.zeros(len(eq)), A_ub=np.array([tot, -tot]), b_ub=[total[1], -total[0]],
              bounds=bounds, method="highs")
    low, high = np.full(r * c, np.nan), np.full(r * c, np.nan)
    for k in range(r * c):
        if cell_low.ravel()[k] >= 1e9:
            continue
        goal = np.zeros(n)
        goal[k] = 1
        a, b = linprog(goal, **kw), linprog(-goal, **kw)
        low[k], high[k] = (a.fun if a.status == 0 else np.nan), (-b.fun if b.status == 0 else np.nan)
    return low.reshape(r, c), high.reshape(r, c)


def lp_audit(con: Store, tables=TWO_WAY, filter_sets=({},), protection: str = "perturb") -> dict:
    """Family 3 on each two-way table under each filter set; `bounded` counts cells whose true count the bounds
    keep under the threshold without pinning it."""
    limit, attempts, bounded, found = reach.threshold(con), 0, 0, []
    for dimension in tables:
        first, second = dimension.split("+")
        for given in filter_sets:
            grid = published(con, dimension, protection, **given).unstack()
            rows = published(con, first, protection, **given).reindex(grid.index)
            cols = published(con, second, protection, **given).reindex(grid.columns)
            total = reach.scores(con, exact=protection == "suppress", **given)["respondents"]  # the one base's total
            cell_low, cell_high = (x.reshape(grid.shape) for x in ranges(grid.to_numpy().ravel(), limit, protection))
            t_low, t_high = ranges(total.where(total >= limit), limit, protection)
            low, high = lp_bounds(cell_low, cell_high, ranges(rows, limit, protection), ranges(cols, limit, protection),
                                  (t_low[0], t_high[0]))
            for i, row in enumerate(grid.index):
                for j, col in enumerate(grid.columns):
                    if cell_low[i, j] >= limit or np.isnan(low[i, j]):
                        continue  # shown at or above the threshold: not a small count
                    attempts += 1
                    if (value := _pinned(low[i, j], high[i, j], limit)) is not None:
                        found.append(_record("lp", dimension, dict(given), (row, col), value, [(1, dict(given))]))
                    elif high[i, j] < limit:
                        bounded += 1
    return {"attempts": attempts, "records": found, "bounded": bounded}


def run(con: Store, protection: str = "perturb", partners: int | None = None) -> dict[str, dict]:
    """Every family on one store: {family: {attempts, records, seconds[, naive, bounded]}}."""
    options = reach.ledger_options(con)
    methods = [{"method": m} for m in options["method"]]
    localities = [{"locality": p} for p in published(con, "locality", protection).index]
    jobs = {"method": lambda: partition(con, "method", methods, bases=[{}, *localities], protection=protection),
            "partner": lambda: partition(con, "partner", [{"partner": p} for p in options["partner"][:partners]],
                                         protection=protection),
            "locality": lambda: partition(con, "locality", localities, bases=[{}, *methods], protection=protection),
            "month": lambda: partition(con, "month", month_filters(con), protection=protection),
            "months": lambda: months(con, protection=protection),
            "days": lambda: days(con, protection=protection),
            "lp": lambda: lp_audit(con, filter_sets=[{}, *methods], protection=protection)}
    if partners is not None and partners < len(options["partner"]):
        del jobs["partner"]  # a partition needs every part
    out = {}
    for family, job in jobs.items():
        start = time.perf_counter()
        out[family] = job() | {"seconds": time.perf_counter() - start}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, default=config.DEMO_PACK)
    parser.add_argument("--db", type=Path, help="a built store (default: build the pack into /tmp)")
    parser.add_argument("--protection", choices=("perturb", "suppress"), default="perturb")
    args = parser.parse_args(argv)
    db = args.db
    if db is None:
        from analytics.build import build
        db = Path("/tmp") / f"attack_{args.pack.resolve().name}.duckdb"
        build(args.pack, db)
    con = Store(db)
    print(f"threshold {reach.threshold(con)}; protection {args.protection}; store {db}")
    for family, got in run(con, args.protection).items():
        extra = "".join(f", {got[k]} {k}" for k in ("naive", "bounded") if k in got)
        print(f"{family:10} {got['attempts']:6} attempts {len(got['records']):5} exact recoveries{extra} "
              f"({got['seconds']:.1f} s)")
        for r in got["records"][:3]:
            print(f"    e.g. {r['table']} {r['cell']} {r['filters']}: {r['value']}")


if __name__ == "__main__":
    main()
