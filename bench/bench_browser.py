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


def time_to_chart(page: Page, url: str) -> float:
    """The floor for time_to_map: the bare page's one small chart drawn."""
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return time.perf_counter() - started


def time_to_bare_update(page: Page, url: str) -> float:
    """The floor for time_to_filter_update: the bare page's filter changed, its chart's title redrawn."""
    page.goto(url)
    page.wait_for_selector("text=Chosen: a", timeout=60_000)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Letter").click()
    option = page.locator('[role="option"]').filter(has_text="b")
    started = time.perf_counter()
    option.click()
    page.wait_for_selector("text=Chosen: b", timeout=60_000)
    return time.perf_counter() - started


def measure(browser, name: str, how, repeat: int) -> dict:
    seconds = []
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        seconds.append(how(context.new_page()))
        context.close()
    return {"measure": name, **summary(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--locality", default="Eastfield")
    parser.add_argument("--label", default="demonstration pack")
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        with running_server(args.pack) as (url, _):
            rows = [measure(browser, "home map drawn, new browser context (cold cache)",
                            lambda pg: time_to_map(pg, url), args.repeat),
                    measure(browser, "filter change → chart updated (Needs profile)",
                            lambda pg: time_to_filter_update(pg, url, args.locality), args.repeat)]
        with running_server(args.pack, "bench/bare_page.py") as (url, _):
            rows += [measure(browser, "floor: bare page's one chart drawn, new context", lambda pg: time_to_chart(pg, url),
                             args.repeat),
                     measure(browser, "floor: bare page's filter change → chart updated",
                             lambda pg: time_to_bare_update(pg, url), args.repeat)]
        browser.close()
    rows[0]["x_floor"] = rows[0]["p50_ms"] / rows[2]["p50_ms"]
    rows[1]["x_floor"] = rows[1]["p50_ms"] / rows[3]["p50_ms"]
    rows[2]["x_floor"] = rows[3]["x_floor"] = 1.0
    body = (f"## Browser: {args.label}\n\nMachine: {machine()}; headless Chromium, no GPU; "
            f"{args.repeat} runs each.\n\n" + table(rows, ["measure", "p50_ms", "p95_ms", "max_ms", "x_floor"]))
    write_section(f"browser {args.label}", body)


if __name__ == "__main__":
    main()
