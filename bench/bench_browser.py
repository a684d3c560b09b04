"""In headless Chromium: time until the home page's map is drawn, and from a filter change to the updated chart.
`python -m bench.bench_browser [--pack PATH] [--repeat N]`. Needs Debian's chromium at /usr/bin/chromium."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from bench.common import machine, summary, table, write_section
from bench.server import ROOT, running_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
MAP_DRAWN = ".js-plotly-plot .maplibregl-canvas"


def time_to_map(page: Page, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(MAP_DRAWN, timeout=60_000)
    # One animation frame more: the canvas exists before maplibre paints into it.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return time.perf_counter() - started


def time_to_filter_update(page: Page, url: str, locality: str) -> float:
    page.goto(f"{url}/Needs_profile")
    page.wait_for_selector("text=Age and sex of residents, the partnership", timeout=60_000)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Locality").click()
    option = page.locator('[role="option"]').filter(has_text=locality)
    started = time.perf_counter()
    option.click()
    page.wait_for_selector(f"text=Age and sex of residents, {locality}", timeout=60_000)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--locality", default="Eastfield")
    parser.add_argument("--label", default="demonstration pack")
    args = parser.parse_args()
    with running_server(args.pack) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        rows = []
        for name, measure in (("home map drawn, new browser context (cold cache)", lambda pg: time_to_map(pg, url)),
                              ("filter change → chart updated (Needs profile)",
                               lambda pg: time_to_filter_update(pg, url, args.locality))):
            seconds = []
            for _ in range(args.repeat):
                context = browser.new_context(viewport={"width": 1366, "height": 900})
                seconds.append(measure(context.new_page()))
                context.close()
            rows.append({"measure": name, **summary(seconds)})
        browser.close()
    body = (f"## Browser: {args.label}\n\nMachine: {machine()}; headless Chromium, no GPU; "
            f"{args.repeat} runs each.\n\n" + table(rows, ["measure", "p50_ms", "p95_ms", "max_ms"]))
    write_section(f"browser {args.label}", body)


if __name__ == "__main__":
    main()
