"""An automated attacker: what a determined viewer can work back from the published reach tables (issue 18).

    python -m bench.attack [--pack data/demo] [--db PATH]

It uses only what analytics/reach.py publishes (counts, NaN where withheld, the `withheld` column) and the
filters every visitor has, and reports exact recoveries of counts below the threshold (0 … threshold − 1):

1. across filters — for a filter F (method, partner) and a value v: table(F=All) − Σ table(F=w), w ≠ v, gives
   v's withheld cells (the schema gives each activity one method and one partner, so F's values partition
   All); where that residual is 0, every withheld part of the cell is 0;
   and the pair difference table(All) − table(F=v): people in a cell reached by anything other than v.
2. across days — the same table with date_to = d and d + 1: people who answered on day d + 1.
3. known totals — a withheld cell of a 2-D table worked back from a shown 1-D table (its margin), where the
   attacker has checked on fully shown lines that the margin adds up exactly (unknown sex or age break it).
4. linear programming — a 2-D table's shown cells, with its 1-D margins as upper bounds (or equalities when
   checked as in 3), and withheld cells as unknowns ≥ 0: each unknown minimised and maximised (scipy HiGHS).
   Equal bounds are an exact recovery; an upper bound under the threshold is reported as `bounded`.

Each attack returns records: {attack, table, filters, cell, value, terms}; `terms` is a list of (sign, filters)
whose signed sum of the exact count of `cell` is what the attacker claims `value` is (the test checks it against
reach.respondent_cells, which is not suppressed). The attacker itself never sees an exact count.
"""
from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from analytics import config, reach
from analytics.db import Store

TABLES = ("locality", "quintile", "sex", "age_group+sex")
TWO_WAY = ("locality+sex", "age_group+sex")
DAYS = 8  # consecutive days, ending on the ledger's last date, for the across-days attack


def published(con: Store, dimension: str, **given: str) -> pd.Series:
    """What a viewer sees of representation(dimension): respondents (NaN = withheld) keyed by a tuple of the
    dimension values as strings."""
    dims = dimension.split("+")
    table = reach.representation(con, dimension, **given)
    keys = [tuple(str(v) for v in row) for row in table[dims].itertuples(index=False)]
    return pd.Series(table["respondents"].to_numpy(float), index=pd.MultiIndex.from_tuples(keys) if len(dims) > 1
                     else pd.Index([k[0] for k in keys]))


def _cell(dimension: str, key) -> dict[str, str]:
    return dict(zip(dimension.split("+"), key if isinstance(key, tuple) else (key,)))


def _record(attack: str, dimension: str, target: dict, key, value: float, terms: list) -> dict:
    return {"attack": attack, "table": dimension, "filters": target, "cell": _cell(dimension, key),
            "value": int(round(value)), "terms": terms}


def _options(con: Store, by: str, limit: int | None) -> list[str]:
    values = reach.ledger_options(con)[by]
    return values[:limit] if limit else values


def across_filters(con: Store, by: str = "method", tables=TABLES, limit: int | None = None,
                   bases=({},)) -> tuple[int, list]:
    """(attempts, records): partition and pair differences over the values of filter `by`, under each of
    `bases` (other filters held fixed). Partition (the published schema gives each activity one method and one
    partner, and no fully shown line contradicts it): a cell's withheld parts are All − Σ shown parts: exactly, when one part is withheld or when that
    residual is 0 (every withheld part is then 0)."""
    t, attempts, found = reach.threshold(con), 0, []
    values = _options(con, by, limit)
    for base in bases:
        for dimension in tables:
            if "locality" in dimension and base.get("locality", "All") != "All":
                continue
            whole = published(con, dimension, **base)
            parts = pd.DataFrame({v: published(con, dimension, **base, **{by: v}) for v in values})
            parts = parts.reindex(whole.index)
            shown = parts.notna().all(axis=1) & whole.notna()
            # Every response comes from one activity, with one method and one partner (docs/SCHEMA.md), so the
            # values partition All; the attacker still drops the idea if a fully shown line contradicts it.
            partition = np.allclose(parts[shown].sum(axis=1), whole[shown])
            for key in parts.index[parts.isna().any(axis=1)]:
                hidden = [v for v in values if pd.isna(parts.loc[key, v])]
                attempts += len(hidden)
                residual = whole[key] - parts.loc[key].sum()  # NaN when All itself is withheld
                if partition and (len(hidden) == 1 or residual == 0) and residual < t:
                    found += [_record(f"filters-partition-{by}", dimension, {**base, by: v}, key, residual,
                                      [(1, {**base, by: v})]) for v in hidden]
            for v in values:
                both = whole.notna() & parts[v].notna()
                attempts += int(both.sum())
                for key in whole.index[both & (whole - parts[v]).between(1, t - 1)]:
                    found.append(_record(f"filters-pair-{by}", dimension, {**base, by: f"not {v}"}, key,
                                         whole[key] - parts.loc[key, v], [(1, base), (-1, {**base, by: v})]))
    return attempts, found


def across_days(con: Store, tables=TABLES, days: int = DAYS) -> tuple[int, list]:
    """(attempts, records): the same table with date_to one day apart, for the last `days` days of the ledger."""
    t, attempts, found = reach.threshold(con), 0, []
    last = dt.date.fromisoformat(reach.ledger_options(con)["last_date"][0])
    dates = [(last - dt.timedelta(days=n)).isoformat() for n in range(days, -1, -1)]
    for dimension in tables:
        seen = {d: published(con, dimension, date_to=d) for d in dates}
        for before, after in zip(dates, dates[1:]):
            diff = seen[after] - seen[before]
            attempts += int(diff.notna().sum())
            for key in diff.index[diff.between(1, t - 1)]:
                found.append(_record("days", dimension, {"answered_on": after}, key, diff[key],
                                     [(1, {"date_to": after}), (-1, {"date_to": before})]))
    return attempts, found


def _margins(con: Store, dimension: str, given: dict) -> tuple[pd.DataFrame, list[pd.Series], list[bool]]:
    """A 2-D table as a grid (rows: first dimension), its two published 1-D tables aligned to the grid, and for
    each whether the attacker has checked it is an exact margin (every fully shown line adds up to it)."""
    first, second = dimension.split("+")
    grid = published(con, dimension, **given).unstack()
    margins = [published(con, first, **given).reindex(grid.index),
               published(con, second, **given).reindex(grid.columns)]
    exact = []
    for axis, margin in ((1, margins[0]), (0, margins[1])):
        full = grid.notna().all(axis=axis) & margin.notna()
        exact.append(bool(full.any()) and np.allclose(grid.sum(axis=axis)[full], margin[full]))
    return grid, margins, exact


def known_totals(con: Store, tables=TWO_WAY, filter_sets=({},)) -> tuple[int, list]:
    """(attempts, records): a withheld cell alone in its line (after the others are shown) worked back from a
    published margin checked to be exact."""
    t, attempts, found = reach.threshold(con), 0, []
    for dimension in tables:
        for given in filter_sets:
            grid, margins, exact = _margins(con, dimension, given)
            for i, row in enumerate(grid.index):
                for j, col in enumerate(grid.columns):
                    if pd.notna(grid.iat[i, j]):
                        continue
                    attempts += 1
                    for line, total, ok in ((grid.iloc[i], margins[0].iat[i], exact[0]),
                                            (grid.iloc[:, j], margins[1].iat[j], exact[1])):
                        if ok and pd.notna(total) and line.isna().sum() == 1 and total - line.sum() < t:
                            found.append(_record("known-totals", dimension, dict(given), (row, col),
                                                 total - line.sum(), [(1, dict(given))]))
                            break
    return attempts, found


def lp_bounds(grid: np.ndarray, rows: np.ndarray, cols: np.ndarray, exact: tuple[bool, bool] = (True, True)
              ) -> list[tuple[int, int, float, float]]:
    """(i, j, low, high) for each withheld (NaN) cell of `grid` given row and column margins (NaN = not shown):
    equalities where `exact`, else upper bounds (the margin also counts people the grid leaves out)."""
    grid = np.asarray(grid, float)
    cells = [tuple(ij) for ij in np.argwhere(np.isnan(grid))]
    if not cells:
        return []
    eq_a, eq_b, ub_a, ub_b = [], [], [], []
    for axis, margin, is_exact in ((1, rows, exact[0]), (0, cols, exact[1])):
        for k, total in enumerate(np.asarray(margin, float)):
            if np.isnan(total):
                continue
            line = grid[k] if axis == 1 else grid[:, k]
            coef = [1.0 if (i if axis == 1 else j) == k else 0.0 for i, j in cells]
            rest = total - np.nansum(line)
            (eq_a if is_exact else ub_a).append(coef)
            (eq_b if is_exact else ub_b).append(rest)
    kw = dict(A_eq=eq_a or None, b_eq=eq_b or None, A_ub=ub_a or None, b_ub=ub_b or None,
              bounds=[(0, None)] * len(cells), method="highs")
    out = []
    for n, (i, j) in enumerate(cells):
        c = np.zeros(len(cells))
        c[n] = 1
        low, high = linprog(c, **kw), linprog(-c, **kw)
        out.append((int(i), int(j), low.fun if low.status == 0 else np.nan,
                    -high.fun if high.status == 0 else np.inf))
    return out


def lp_audit(con: Store, tables=TWO_WAY, filter_sets=({},)) -> tuple[int, list, int]:
    """(attempts, exact records, cells bounded entirely below the threshold but not exactly)."""
    t, attempts, found, bounded = reach.threshold(con), 0, [], 0
    for dimension in tables:
        for given in filter_sets:
            grid, margins, exact = _margins(con, dimension, given)
            for i, j, low, high in lp_bounds(grid.to_numpy(float), margins[0].to_numpy(float),
                                             margins[1].to_numpy(float), tuple(exact)):
                attempts += 1
                if np.isfinite(high) and abs(high - low) < 1e-6 and high < t:
                    found.append(_record("lp", dimension, dict(given), (grid.index[i], grid.columns[j]),
                                         high, [(1, dict(given))]))
                elif high < t:
                    bounded += 1
    return attempts, found, bounded


def run(con: Store, partners: int | None = None) -> dict[str, dict]:
    """Every family on one store: {family: {attempts, recoveries, records, seconds[, bounded]}}."""
    methods = [{"method": m} for m in reach.ledger_options(con)["method"]]
    places = [{}] + [{"locality": p} for p in published(con, "locality").index]
    jobs = {"filters-method": lambda: across_filters(con, "method", bases=places),
            "filters-partner": lambda: across_filters(con, "partner", limit=partners),
            "days": lambda: across_days(con),
            "known-totals": lambda: known_totals(con, filter_sets=[{}, *methods]),
            "lp": lambda: lp_audit(con, filter_sets=[{}, *methods])}
    out = {}
    for family, job in jobs.items():
        start = time.perf_counter()
        attempts, records, *rest = job()
        out[family] = {"attempts": attempts, "recoveries": len(records), "records": records,
                       "seconds": time.perf_counter() - start, **({"bounded": rest[0]} if rest else {})}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, default=config.DEMO_PACK)
    parser.add_argument("--db", type=Path, help="a built store (default: build the pack into /tmp)")
    args = parser.parse_args(argv)
    db = args.db
    if db is None:
        from analytics.build import build
        db = Path("/tmp") / f"attack_{args.pack.resolve().name}.duckdb"
        build(args.pack, db)
    con = Store(db)
    print(f"threshold {reach.threshold(con)}; store {db}")
    for family, got in run(con).items():
        extra = f", {got['bounded']} more bounded below the threshold" if "bounded" in got else ""
        kinds = Counter(r["attack"] for r in got["records"])
        print(f"{family:16} {got['attempts']:6} attempts {got['recoveries']:5} exact recoveries{extra} "
              f"({got['seconds']:.1f} s) {dict(kinds) if len(kinds) > 1 else ''}")
        for r in got["records"][:3]:
            print(f"    e.g. {r['table']} {r['cell']} {r['filters']}: {r['value']}")


if __name__ == "__main__":
    main()
