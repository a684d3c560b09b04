"""Server-side benchmark: analytics queries, every page's full run (AppTest) against a bare page, map payload,
store build time and size. `python -m bench.bench_server [--pack PATH] [--repeat N] [--label NAME]`."""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bench.common import machine, summary, table, timed, write_section

ROOT = Path(__file__).resolve().parents[1]


def query_timings(store, repeat: int) -> list[dict]:
    from analytics import fatigue, home, needs, reach
    meta = store.meta()
    year = int(meta["base_year"]) + 10
    indicator = needs.indicators(store)["indicator"].iloc[0]
    calls = {
        "needs.age_summary": lambda: needs.age_summary(store),
        "needs.pyramid": lambda: needs.pyramid(store),
        "needs.deprivation_profile": lambda: needs.deprivation_profile(store),
        "needs.projection_by_age_group": lambda: needs.projection_by_age_group(store),
        "needs.need_by_area": lambda: needs.need_by_area(store, indicator, year),
        "needs.need_table": lambda: needs.need_table(store, year),
        "reach.representation(age_group+sex)": lambda: reach.representation(store, "age_group+sex"),
        "reach.representation(community)": lambda: reach.representation(store, "community"),
        "reach.representation(locality+community)": lambda: reach.representation(store, "locality+community"),
        "reach.coverage_by_locality": lambda: reach.coverage_by_locality(store),
        "reach.coverage_by_neighbourhood": lambda: reach.coverage_by_neighbourhood(store),
        "reach.hard_to_reach": lambda: reach.hard_to_reach(store),
        "fatigue.contacts": lambda: fatigue.contacts(store),
        "home.need_reach": lambda: home.need_reach(store, year),
        "home.engagement_facts": lambda: home.engagement_facts(store),
        "home.aged_75": lambda: home.aged_75(store, year),
    }
    return [{"query": name, **summary(timed(call, repeat))} for name, call in calls.items()]


def page_timings(repeat: int) -> list[dict]:
    from streamlit.testing.v1 import AppTest
    pages = ["bench/bare_page.py", "dashboard.py"] + sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))
    rows = []
    for page in pages:
        def run() -> None:
            at = AppTest.from_file(str(ROOT / page), default_timeout=300).run()
            assert not at.exception, (page, [e.message for e in at.exception])
        started = time.perf_counter()
        run()  # the first run fills the shared caches, as the first visitor does
        cold = time.perf_counter() - started
        rows.append({"page": page, "cold_ms": 1000 * cold, **summary(timed(run, repeat))})
    floor = rows[0]["p50_ms"]
    for row in rows:
        row["x_bare"] = row["p50_ms"] / floor
    return rows


def payloads(store) -> list[dict]:
    from analytics import figures, geo, home, metrics
    rows = []
    for level in ("area", "neighbourhood"):
        collection = geo.feature_collection(store, level)
        raw = json.dumps(collection, separators=(",", ":")).encode()
        layer = geo.MapLayer("app/static/x.geojson", geo.map_view(collection))
        frame = home.need_reach(store, int(store.meta()["base_year"]) + 10) if level == "neighbourhood" else None
        if frame is None:
            from analytics import needs
            frame = needs.need_by_area(store, needs.indicators(store)["indicator"].iloc[0],
                                       int(store.meta()["base_year"]))
            fig = figures.choropleth(layer, frame, "area_code", "need_index", metrics.metric("need_index"), "t")
        else:
            fig = figures.bivariate_map(layer, frame, "neighbourhood_code", "t", "neighbourhood_name")
        import gzip
        rows.append({"map level": level, "features": len(collection["features"]),
                     "boundary file KB": len(raw) / 1024, "gzipped KB": len(gzip.compress(raw)) / 1024,
                     "figure KB (boundaries by URL)": len(fig.to_json()) / 1024})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--label", default="demonstration pack")
    parser.add_argument("--no-pages", action="store_true", help="skip the page runs")
    args = parser.parse_args()
    from analytics.build import build
    from analytics.db import Store
    workdir = Path(tempfile.mkdtemp(prefix="reach-bench-"))
    db = workdir / "store.duckdb"
    started = time.perf_counter()
    build(args.pack, db)
    built = time.perf_counter() - started
    store = Store(db)
    os.environ.update(REACH_PACK=str(args.pack.resolve()), REACH_DB=str(db))
    parts = [f"## Server side: {args.label}\n", f"Machine: {machine()}. Pack: `{args.pack}`.\n",
             f"Store build: {built:.1f} s, {db.stat().st_size / 1e6:.1f} MB.\n",
             "### Analytics queries (uncached, ms)\n",
             table(query_timings(store, args.repeat), ["query", "p50_ms", "p95_ms", "max_ms"]),
             "\n### Map payload\n",
             table(payloads(store), ["map level", "features", "boundary file KB", "gzipped KB",
                                     "figure KB (boundaries by URL)"])]
    if not args.no_pages:
        parts += [f"\n### Full page runs (AppTest, caches warm after the first run; {args.repeat} runs, ms)\n",
                  table(page_timings(args.repeat), ["page", "cold_ms", "p50_ms", "p95_ms", "max_ms", "x_bare"])]
    write_section(f"server {args.label}", "\n".join(parts))


if __name__ == "__main__":
    main()
