"""Every page's first run, computed when the store is built and kept in it (issue 21).

A freshly started server on a national pack spent seconds on a page's first run (Engagement reach 7.5 s) until
someone warmed its caches by hand. So the build runs, once, every analytics call a page makes for its default view
and for each single filter value (the others at their defaults, as `bench/warm.py` does), and stores each result
pickled in the table `precomputed`, keyed by the call itself: `module.qualname(k=v, …)` with the keyword arguments
sorted, exactly as `ui.compute` receives them. `ui.compute` asks `lookup` before computing.

The list of calls is declarative and in one place (`PAGES`): each page names its filters (default and options,
read from the store through the same functions the page uses) and the calls it makes for one choice of them.
Nothing here knows a result's shape: results are pickled as returned, so a changed function needs only the list
updated (tests/test_precompute.py fails when a page makes a first-run call the list does not have).

A stored result is used only while the code that made it is the code running (`code_hash`: every analytics module
but ui.py, the SQL, and the versions of the libraries that shape results); otherwise the call is computed as
before. The table lives in the store file, so a rebuilt store (new fingerprint) brings its own results.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import pandas as pd

from analytics import fatigue, home, needs, panel, reach, trends, weighting
from analytics.db import Store

log = logging.getLogger(__name__)

TABLE = "precomputed"
MISSING = object()  # lookup's answer when there is no stored result (None is a result)
Call = tuple[Callable[..., Any], dict[str, Any]]
Choice = dict[str, Any]
_HERE = Path(__file__).parent
# Not results' code: ui.py draws pages (and is the one module importing Streamlit); demo.py writes packs.
_NOT_RESULTS = {"ui.py", "demo.py"}
# Starting worker processes costs seconds (each imports pandas, DuckDB, SciPy): worth it for a large ledger only.
PARALLEL_FROM_RESPONSES = 100_000
_LIBRARIES = ("pandas", "numpy", "duckdb", "scipy")


# --- the call key --------------------------------------------------------------------------------------------
def call_key(function: Callable[..., Any], kwargs: dict[str, Any]) -> str:
    """`module.qualname(a=1, b='x')`, arguments sorted: the same text for the same call wherever it is made.
    repr keeps types apart (2030 and '2030' and 2030.0 are different calls, as they are to the cache)."""
    arguments = ", ".join(f"{name}={value!r}" for name, value in sorted(kwargs.items()))
    return f"{function.__module__}.{function.__qualname__}({arguments})"


@cache
def code_hash() -> str:
    """What the stored results were computed by: analytics code, SQL and library versions."""
    digest = hashlib.sha256()
    sources = sorted(p for p in _HERE.rglob("*") if p.suffix in (".py", ".sql") and p.name not in _NOT_RESULTS)
    for source in sources:
        digest.update(str(source.relative_to(_HERE)).encode() + b"\0" + source.read_bytes())
    for library in _LIBRARIES:
        digest.update(f"{library}={_version(library)}".encode())
    return digest.hexdigest()


def _version(library: str) -> str:
    try:
        return version(library)
    except Exception:  # noqa: BLE001 - a library not installed shapes nothing
        return "-"


# --- what the pages ask for on their first run -----------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    """A page's filters (name → (default, every option)) and the calls it makes for one choice of them."""
    name: str
    filters: Callable[[Store], dict[str, tuple[Any, list[Any]]]]
    calls: Callable[[Choice], list[Call]]


def _engagement_filters(con: Store) -> dict[str, tuple[Any, list[Any]]]:
    """ui.engagement_filters: the whole ledger's period, all methods, partners and localities. The period is kept
    at its default: a page's first run shows the whole ledger, and each month × 2 ends × every call would multiply
    the build's time for views reached only by choosing dates."""
    options = reach.ledger_options(con)
    first, last = (options[k][0] for k in ("first_date", "last_date"))
    localities = list(home.localities(con)["locality"])
    return {"date_from": (first, [first]), "date_to": (last, [last]),
            "method": ("All", ["All"] + options.get("method", [])),
            "partner": ("All", ["All"] + options.get("partner", [])),
            "locality": ("All", ["All"] + localities)}


_FILTER_NAMES = ("date_from", "date_to", "method", "partner", "locality")


def _f(choice: Choice) -> dict[str, Any]:
    """The filters as ui.engagement_filters passes them: through reach.filters, which completes and normalises them
    (a period of whole months)."""
    return reach.filters(**{k: choice[k] for k in _FILTER_NAMES})


def _engagement_common(f: dict[str, Any]) -> list[Call]:
    """What every engagement page computes before its own figures (ui.stop_if_no_engagement, the filters)."""
    return [(home.overview, {}), (home.localities, {}), (reach.ledger_options, {}), (reach.method_mix, f)]


def _home_filters(con: Store) -> dict[str, tuple[Any, list[Any]]]:
    base, last = int(con.meta()["base_year"]), int(needs.variants(con)["last_year"].iloc[0])
    return {"year": (min(base + 10, last), list(range(base + 1, last + 1)))}


def _home_calls(c: Choice) -> list[Call]:
    return [(needs.variants, {}), (home.engagement_facts, {}), (home.aged_75, {"year": c["year"]}),
            (home.under_reached, {}), (home.need_reach, {"year": c["year"]}),
            (reach.representation, {"dimension": "age_group+sex"})]  # presentation mode's fourth slide


def _needs_filters(con: Store) -> dict[str, tuple[Any, list[Any]]]:
    """pages/1_Needs_profile.py: locality, variant, year (of the default variant), indicator, map colouring."""
    base = int(con.meta()["base_year"])
    variants = needs.variants(con)
    localities = sorted(set(needs.age_summary(con)["locality"]) - {"All"})
    first_variant = str(variants["variant"].iloc[0])
    last = int(variants.set_index("variant").loc[first_variant, "last_year"])
    indicators = [str(i) for i in needs.indicators(con)["indicator"]]
    return {"locality": ("All", ["All"] + localities), "variant": (first_variant, [str(v) for v in variants["variant"]]),
            "year": (min(base + 10, last), list(range(base, last + 1))), "indicator": (indicators[0], indicators),
            "map": ("need", ["need", "deprivation"]), "base_year": (base, [base])}


def _needs_calls(c: Choice) -> list[Call]:
    place, year, variant = c["locality"], c["year"], c["variant"]
    mapped = ((needs.need_by_area, {"indicator": c["indicator"], "year": year, "variant": variant, "locality": place})
              if c["map"] == "need" else (needs.area_deprivation, {"locality": place}))
    return [(needs.age_summary, {}), (needs.variants, {}), (needs.indicators, {}), (needs.deprivation_profile, {}),
            (needs.pyramid, {"locality": place}),
            (needs.projected_pyramid, {"year": year, "locality": place, "variant": variant}),
            (needs.projection_by_age_group, {"locality": place, "variant": variant}),
            (needs.need_table, {"year": year, "locality": place, "variant": variant, "base_year": c["base_year"]}),
            mapped]


def _reach_filters(con: Store) -> dict[str, tuple[Any, list[Any]]]:
    dimensions = ["age_group+sex", "quintile", "locality", "age_band", "sex", "community"]
    return {**_engagement_filters(con), "by": ("age_group+sex", dimensions)}


def _reach_calls(c: Choice) -> list[Call]:
    f = _f(c)
    return _engagement_common(f) + [
        (reach.scores, {"dimension": "age_band+sex", **f}), (reach.coverage_by_neighbourhood, f),
        (reach.coverage_by_locality, f), (reach.overall_rate, f), (reach.flag_band, {}),
        (reach.representation, {"dimension": c["by"], **f}), (reach.clustering, {"dimension": c["by"], **f}),
        (reach.representation, {"dimension": "locality+community", **f, "locality": "All"}),
        (reach.scores, {"dimension": "age_band+sex", "by": "method", **f}), (reach.timeline, f),
        # the fatigue sliders' defaults: 90 days, 8 activities, 1.5 per 10,000
        (fatigue.contacts, {"window_days": 90, "max_activities": 8, "max_per_10k": 1.5, **f}),
        (fatigue.overlaps, {"days": 28, "date_from": f["date_from"], "date_to": f["date_to"]})]


def _time_filters(con: Store) -> dict[str, tuple[Any, list[Any]]]:
    """pages/2_Reach_over_time.py: the engagement filters, the quarter-by-quarter dimension and the side-by-side
    pair at its default (the first locality and the partnership; other pairs are computed when chosen)."""
    first = next(iter(home.localities(con)["locality"]), "All")
    return {**_engagement_filters(con), "by": ("locality", ["locality", "community", "age_group+sex", "quintile"]),
            "side_by": ("age_group+sex", list(trends.COMPARE)), "places": ((first, "All"), [(first, "All")])}


def _time_calls(c: Choice) -> list[Call]:
    f = _f(c)
    return _engagement_common(f) + [
        (trends.over_time, {"dimension": c["by"], **f}),
        (trends.side_by_side, {"dimension": c["side_by"], "places": c["places"], **f, "locality": "All"})]


def _hard_filters(con: Store) -> dict[str, tuple[Any, list[Any]]]:
    needs_ = ["all"] + [str(i) for i in needs.indicators(con)["indicator"]]
    return {**_engagement_filters(con), "need": ("all", needs_), "weight": (0.5, [0.0, 0.25, 0.5, 0.75, 1.0])}


def _hard_calls(c: Choice) -> list[Call]:
    f = _f(c)
    return _engagement_common(f) + [(needs.indicators, {}), (reach.flag_band, {}),
                                    (reach.hard_to_reach, {"need": c["need"], "need_weight": c["weight"], **f})]


def _weighting_filters(con: Store) -> dict[str, tuple[Any, list[Any]]]:
    return {**_engagement_filters(con), "age": ("age_band+sex", ["age_band+sex", "age_group+sex", "none"]),
            "by_locality": (True, [True, False]), "by_quintile": (True, [True, False]), "trim": (5, [0, 3, 5, 10])}


def _weighting_calls(c: Choice) -> list[Call]:
    f = _f(c)
    margins = weighting.margins_from(c["age"], c["by_locality"], c["by_quintile"])
    return _engagement_common(f) + [(weighting.weight_responses, {"margins": margins, "trim": c["trim"], **f})]


def _panel_filters(con: Store) -> dict[str, tuple[Any, list[Any]]]:
    """The design's choices but the panel size (99 sizes, each cheap to compute)."""
    return {"oversample": (2.0, list(panel.OVERSAMPLE)), "by_locality": (True, [True, False]),
            "age": ("age_group", ["age_group", "age_band", "none"]), "by_sex": (True, [True, False]),
            "by_quintile": (False, [False, True])}


def _panel_calls(c: Choice) -> list[Call]:
    strata = panel.strata_from(c["by_locality"], c["age"], c["by_sex"], c["by_quintile"])
    d = {"size": 1000, "strata": strata, "oversample": c["oversample"], "priority": panel.DEFAULT_PRIORITY}
    return [(panel.priority_options, {}), (panel.quotas, d), (panel.design, d), (panel.recruitment, {}),
            (panel.progress, {"source": "ledger", **d})]


def _no_filters(con: Store) -> dict[str, tuple[Any, list[Any]]]:
    return {}


def _about_calls(c: Choice) -> list[Call]:
    return [(reach.flag_band, {}), (needs.indicators, {}), (home.community_sources, {})]


PAGES = (Page("Home", _home_filters, _home_calls), Page("Needs profile", _needs_filters, _needs_calls),
         Page("Engagement reach", _reach_filters, _reach_calls),
         Page("Reach over time", _time_filters, _time_calls), Page("Hard to reach", _hard_filters, _hard_calls),
         Page("Survey weighting", _weighting_filters, _weighting_calls),
         Page("Citizens panel", _panel_filters, _panel_calls), Page("About the data", _no_filters, _about_calls))


def choices(filters: dict[str, tuple[Any, list[Any]]]) -> Iterator[Choice]:
    """The default choice, then each filter's every option with the others at their defaults."""
    default = {name: given for name, (given, _) in filters.items()}
    yield default
    for name, (_, options) in filters.items():
        for option in options:
            if option != default[name]:
                yield {**default, name: option}


def first_run_calls(con: Store, pages: tuple[Page, ...] = PAGES) -> dict[str, Call]:
    """Every distinct call (by key) the pages make on a first run, in page order."""
    calls: dict[str, Call] = {}
    for page in pages:
        for choice in choices(page.filters(con)):
            for function, kwargs in page.calls(choice):
                calls.setdefault(call_key(function, kwargs), (function, kwargs))
    return calls


# --- at build time -------------------------------------------------------------------------------------------
def enabled() -> bool:
    """Whether a build called without saying (a commit's rebuild, a server building a missing store) precomputes:
    $REACH_PRECOMPUTE=1. Off by default: on a national pack it adds minutes to a commit, and every test builds."""
    return os.environ.get("REACH_PRECOMPUTE", "0").strip().lower() in ("1", "true", "yes")


def default_workers() -> int:
    """Processes to compute with: the results are mostly pandas work, which one process runs on one core."""
    return max(1, min(4, os.cpu_count() or 1))


def precompute(db_path: Path, workers: int = 1) -> dict[str, float]:
    """Compute every first-run call on the built store at `db_path` (not yet in use) and add the results to it. A
    call that fails is left out (the page computes it, and shows its error, as before). Returns counts, megabytes
    and seconds."""
    started = time.perf_counter()
    store = Store(db_path)
    try:
        keys = list(first_run_calls(store))
        large = store.cursor().execute("SELECT count(*) FROM responses").fetchone()[0] >= PARALLEL_FROM_RESPONSES
    finally:
        store.close()
    if workers > 1 and large:
        # spawn, not fork: a forked child would inherit the parent's DuckDB and thread state.
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_open_worker,
                                 initargs=(str(db_path),)) as pool:
            results = list(pool.map(_compute_in_worker, keys, chunksize=2))
    else:
        _open_worker(str(db_path))
        try:
            results = [_compute_in_worker(key) for key in keys]
        finally:
            _close_worker()
    rows = [(key, blob) for key, blob in zip(keys, results) if blob is not None]
    _write(db_path, rows)
    return {"calls": len(keys), "stored": len(rows), "failed": len(keys) - len(rows),
            "megabytes": sum(len(blob) for _, blob in rows) / 1e6, "seconds": time.perf_counter() - started}


_WORKER: dict[str, Any] = {}  # this process's store and call list while precomputing


def _open_worker(db_path: str) -> None:
    store = Store(Path(db_path))
    _WORKER.update(store=store, calls=first_run_calls(store))


def _close_worker() -> None:
    _WORKER.pop("store").close()
    _WORKER.clear()


def _compute_in_worker(key: str) -> bytes | None:
    """The pickled result of one call, or None when it raises."""
    function, kwargs = _WORKER["calls"][key]
    try:
        return pickle.dumps(function(_WORKER["store"], **kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - the page will meet the same error and say so
        log.info("not precomputed: %s (%s: %s)", key, type(exc).__name__, exc)
        return None


def _write(db_path: Path, rows: list[tuple[str, bytes]]) -> None:
    frame = pd.DataFrame({"call": [r[0] for r in rows], "code": code_hash(), "result": [r[1] for r in rows]})
    with duckdb.connect(str(db_path)) as con:
        con.execute(f"CREATE OR REPLACE TABLE {TABLE} (call VARCHAR PRIMARY KEY, code VARCHAR, result BLOB)")
        con.register("incoming", frame)
        con.execute(f"INSERT INTO {TABLE} SELECT call, code, result FROM incoming ORDER BY call")
        con.unregister("incoming")


# --- at run time ---------------------------------------------------------------------------------------------
def lookup(con: Store, function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """The stored result of `function(con, **kwargs)`, or MISSING (no such call stored, a store built before
    precomputing, or results made by other code)."""
    try:
        row = con.cursor().execute(f"SELECT result FROM {TABLE} WHERE call = ? AND code = ?",
                                   [call_key(function, kwargs), code_hash()]).fetchone()
    except duckdb.CatalogException:
        return MISSING
    return MISSING if row is None else pickle.loads(row[0])


def is_current(db_path: Path) -> bool:
    """Whether the store at `db_path` holds results made by the code now running (a hall builds again otherwise)."""
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            row = con.execute(f"SELECT count(*) FROM {TABLE} WHERE code = ?", [code_hash()]).fetchone()
    except duckdb.Error:
        return False
    return bool(row and row[0])
