"""Theme analysis at build time on 100,000 comments, and the Insight library's reads on the demo store.

`python -m bench.insight_themes [--comments N]`: comments are the demonstration's, drawn again for N responses (so
they carry its planted themes and fake personal details); each build-time step is timed on its own (codebook,
discovery, sentiment, quotes), then the whole insight build on a store of N respondents, then each page read.
Results are printed and written to bench/insight_themes.txt.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics import demo_insight
from analytics.config import DEMO_PACK
from analytics.db import Store
from analytics.insight import library, redact, store, themes

OUT = Path(__file__).with_name("insight_themes.txt")


def _people(n: int) -> pd.DataFrame:
    """n respondents shaped like the demo's (their columns drawn again, row by row, from the demo's responses)."""
    resp = pd.read_csv(DEMO_PACK / "responses.csv", dtype=str, keep_default_na=False)
    dep = pd.read_csv(DEMO_PACK / "deprivation.csv", dtype={"area_code": str})
    rng = np.random.default_rng(0)
    people = resp.iloc[rng.integers(0, len(resp), n)].reset_index(drop=True)
    people["response_id"] = [f"B{i:07d}" for i in range(n)]
    import json
    areas = pd.DataFrame([f["properties"] for f in json.loads((DEMO_PACK / "areas.geojson").read_text())["features"]])
    return people.merge(areas[["area_code", "locality"]], on="area_code", how="left").merge(
        dep[["area_code", "quintile"]], on="area_code", how="left")


def timed(label: str, lines: list[str], function, *args):
    started = time.perf_counter()
    result = function(*args)
    lines.append(f"{label:<48} {time.perf_counter() - started:7.2f} s")
    print(lines[-1], flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    args = parser.parse_args(argv)
    lines: list[str] = []
    people = _people(int(args.comments / 0.36) + 1)
    said = demo_insight.comments(0, people).head(args.comments).reset_index(drop=True)
    lines.append(f"{len(said):,} comments from {len(people):,} respondents")
    book = dict(themes.DEFAULT_CODEBOOK)
    rows = said.assign(row=np.arange(len(said)))
    timed("codebook (10 themes, every comment)", lines, themes.code, rows[["row", "response_id", "text"]], book)
    timed("discovery (TF-IDF + NMF on unmatched sentences)", lines, themes.discover, said["text"], book)
    timed("sentiment (VADER, every comment)", lines, themes.sentiment, said["text"])
    consented = said.loc[said["consent_to_quote"] == "yes", "text"]
    timed(f"redaction ({len(consented):,} consented comments)", lines, lambda: [redact.safe_quote(t) for t in consented])
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        resp = people[["response_id", "submitted_on", "area_code", "age_band", "locality", "quintile"]].rename(
            columns={"submitted_on": "submitted_on"})
        con.register("p", resp.assign(rkey=np.arange(len(resp)) % 256))
        con.execute("CREATE TABLE stg_response AS SELECT response_id, CAST(submitted_on AS DATE) AS submitted_on, "
                    "locality, CAST(nullif(quintile::VARCHAR, '') AS DOUBLE)::INT AS quintile, "
                    "nullif(age_band, '') AS age_band, rkey FROM p")
        con.execute("CREATE TABLE age_bands AS SELECT * FROM (VALUES " + ",".join(
            f"('{b}', {int(b.rstrip('+').split('-')[0])})" for b in __import__("analytics.config", fromlist=["x"]
                                                                                    ).AGE_BANDS) + ") t(age_band, lower_age)")
        bridge = people[["response_id", "communities"]].assign(community=people["communities"].str.split(";"))
        con.register("b", bridge.explode("community").query("community != ''")[["response_id", "community"]])
        con.execute("CREATE TABLE response_communities AS SELECT * FROM b")
        stories = pd.read_csv(DEMO_PACK / "stories.csv", dtype=str, keep_default_na=False)
        timed("whole insight build (all of the above + counts)", lines, store.write, con,
              {"comments": said, "stories": stories, "codebook": None}, 5)
        con.close()
    _page_reads(lines)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


def _page_reads(lines: list[str]) -> None:
    """Each page read on the demo store (built once, outside the timing), best of 20 runs."""
    from analytics.build import build
    with tempfile.TemporaryDirectory() as tmp:
        build(DEMO_PACK, Path(tmp) / "demo.duckdb")
        con = Store(Path(tmp) / "demo.duckdb")
        for label, call in (("search 'respite carers'", lambda: library.search(con, "respite carers")),
                            ("themes", lambda: library.themes(con)),
                            ("prevalence by community", lambda: library.prevalence(con, "community")),
                            ("distinctive, Unpaid carers", lambda: library.distinctive(con, "community",
                                                                                       "Unpaid carers")),
                            ("you said, we did", lambda: library.insights(con)),
                            ("stories", lambda: library.stories(con))):
            best = min(_once(call) for _ in range(20))
            lines.append(f"page read: {label:<38} {best * 1000:7.1f} ms")
            print(lines[-1], flush=True)


def _once(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
