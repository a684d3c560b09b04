"""In headless Chromium: time until the home page's map has painted its areas, and from a filter change to the
updated chart painted, each against a bare page holding one plotly chart measured in the same run.
`python -m bench.bench_browser [--pack PATH] [--repeat N]`. Needs Debian's chromium at /usr/bin/chromium.

Times are taken inside the page, from the browser's own clock: navigation start (or the pointer going down on the
option) to just after the first frame painted with the chart. Playwright's `wait_for_selector` polls, and while
charts redraw its polls wait behind the main thread's long tasks: it saw the Needs profile's new chart about a
second after the page held it, which measured Playwright, not the dashboard. Also reports what one phone downloads
on its first visit, as served and gzipped."""
from __future__ import annotations

import argparse
import gzip
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from bench.common import machine, summary, table, write_section
from bench.server import ROOT, running_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}

# Installed before any page script runs. `__until(test)` resolves with the page clock (ms since navigation
# start) just after the next paint once `test()` holds (checked at every frame): a message posted from the
# frame's animation callback runs after that frame has been rendered ("after next paint"). Long tasks are logged
# so that `__settled()` can say when the page last stopped working (the whole page redrawn, not the first chart).
INIT_JS = """
window.__until = (test) => new Promise(resolve => {
  const afterPaint = () => { const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve(performance.now()); channel.port2.postMessage(null); };
  const tick = () => test() ? requestAnimationFrame(afterPaint) : requestAnimationFrame(tick);
  tick();
});
window.__long = [];
new PerformanceObserver(list => list.getEntries().forEach(e => window.__long.push(e.startTime + e.duration)))
  .observe({type: 'longtask', buffered: true});
window.__settled = (quiet) => new Promise(resolve => {
  const check = () => { const last = Math.max(0, ...window.__long);
    performance.now() - last > quiet ? resolve(last) : setTimeout(check, 100); };
  check();
});
window.__title = (text) => () => [...document.querySelectorAll('.gtitle')].some(t => t.textContent.includes(text));
"""
# Plotly keeps each map subplot's maplibre instance on the chart's element; queryRenderedFeatures lists the
# polygons painted in the canvas, so 0 means a blank map even when the canvas exists (e.g. boundaries not loaded).
# Areas painted per map on the page (the browser tests read it too).
PAINTED_AREAS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(gd => gd._fullLayout && gd._fullLayout.map)
  .map(gd => {
    const map = gd._fullLayout.map._subplot.map;
    // Areas are drawn as fills; the localities' outlines over them (a line layer) are not areas.
    return new Set(map.queryRenderedFeatures().filter(f => f.layer.type === 'fill')
      .map(f => f.properties && (f.properties.id ?? JSON.stringify(f.properties)))).size;
  })"""
# The first map has painted every area its trace lists (maplibre paints progressively; a canvas alone may still
# be blank). It throws until the map's subplot and style exist.
MAP_PAINTED_JS = f"""() => {{ try {{
    const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout && g._fullLayout.map);
    const [painted] = ({PAINTED_AREAS_JS})();
    return gd !== undefined && painted > 0 && painted >= gd.data[0].locations.length;
  }} catch (e) {{ return false; }} }}"""


def time_to_paint(page: Page, url: str, test_js: str) -> float:
    """Navigation start → a frame painted after `test_js` holds (ms, the page's clock)."""
    page.goto(url, wait_until="commit")
    return page.evaluate(f"window.__until({test_js})")


def time_to_redraw(page: Page, url: str, ready_title: str, label: str, option: str, new_title: str,
                   settled: bool = False) -> float:
    """Pointer down on a filter's option → a frame painted with the chart titled `new_title`, or (settled) the
    end of the last long task once the page has been quiet for a second."""
    page.goto(url)
    page.evaluate(f"window.__until(window.__title({ready_title!r}))")
    page.wait_for_timeout(1500)  # let the first draw finish, as a reader would before choosing
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
    page.evaluate("""(title) => { window.__t0 = null;
      document.addEventListener('pointerdown', e => { window.__t0 ??= e.timeStamp; }, {capture: true});
      window.__done = window.__until(window.__title(title)); }""", new_title)
    page.locator('[role="option"]').filter(has_text=option).click()
    end = page.evaluate("window.__done.then(t => window.__settled(1000).then(s => Math.max(t, s)))" if settled
                        else "window.__done")
    return end - page.evaluate("window.__t0")


def first_visit_bytes(browser, url: str) -> list[dict]:
    """What one phone downloads on its first visit to the home page (until its map has painted), by kind, as
    Streamlit serves it and gzipped (as behind a compressing proxy; Streamlit does not compress its bundle)."""
    def visit(page: Page) -> list[str]:
        time_to_paint(page, url, MAP_PAINTED_JS)
        return page.evaluate("performance.getEntriesByType('resource').map(r => r.name)") + [url + "/"]

    names = once(browser, visit, PHONE)
    kinds: dict[str, dict] = {}
    for name in dict.fromkeys(n for n in names if n.startswith(url) and "/_stcore/" not in n):
        body = urllib.request.urlopen(name, timeout=30).read()
        kind = name.rsplit(".", 1)[-1] if "." in name.rsplit("/", 1)[-1] else "html"
        row = kinds.setdefault(kind, {"kind": kind, "files": 0, "as_served_KB": 0.0, "gzipped_KB": 0.0})
        row["files"] += 1
        row["as_served_KB"] += len(body) / 1024
        row["gzipped_KB"] += len(gzip.compress(body, 6)) / 1024
    rows = sorted(kinds.values(), key=lambda r: -r["as_served_KB"])
    return rows + [{"kind": "all", "files": sum(r["files"] for r in rows),
                    **{k: sum(r[k] for r in rows) for k in ("as_served_KB", "gzipped_KB")}}]


def once(browser, how, viewport: dict = DESKTOP):
    """`how(page)` in a new browser context (an empty cache, as a phone's first visit)."""
    context = browser.new_context(viewport=viewport)
    context.add_init_script(INIT_JS)
    try:
        return how(context.new_page())
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--locality", default="Eastfield")
    parser.add_argument("--label", default="demonstration pack")
    args = parser.parse_args()
    needs = ("Age and sex of residents, the partnership", "Locality", args.locality,
             f"Age and sex of residents, {args.locality}")
    with sync_playwright() as p, running_server(args.pack) as (app, _), \
            running_server(args.pack, "bench/bare_page.py") as (bare, _):
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        # name -> (how, floor's name); the floor is the bare one-chart page on its own server.
        measures = {
            "home map painted (every area), new browser context": (
                lambda pg: time_to_paint(pg, app, MAP_PAINTED_JS), "floor: bare page's one chart painted"),
            "filter change → chart painted (Needs profile)": (
                lambda pg: time_to_redraw(pg, f"{app}/Needs_profile", *needs), "floor: bare page's filter change"),
            "filter change → whole page redrawn (Needs profile, last long task)": (
                lambda pg: time_to_redraw(pg, f"{app}/Needs_profile", *needs, settled=True),
                "floor: bare page's filter change"),
            "floor: bare page's one chart painted": (
                lambda pg: time_to_paint(pg, bare, "window.__title('Chosen: a')"), None),
            "floor: bare page's filter change": (
                lambda pg: time_to_redraw(pg, bare, "Chosen: a", "Letter", "b", "Chosen: b"), None)}
        for how, _ in measures.values():  # untimed: the servers' first runs (bench_server measures those)
            once(browser, how)
        # Round robin, so that the machine's noise falls on the pages and their floor alike.
        ms: dict[str, list[float]] = {name: [] for name in measures}
        for _ in range(args.repeat):
            for name, (how, _) in measures.items():
                ms[name].append(once(browser, how))
        payload = first_visit_bytes(browser, app)
        browser.close()
    rows = {name: {"measure": name, **summary([m / 1000 for m in values])} for name, values in ms.items()}
    for name, (_, floor) in measures.items():
        rows[name]["x_floor"] = rows[name]["p50_ms"] / rows[floor]["p50_ms"] if floor else 1.0
    body = (f"## Browser: {args.label}\n\nMachine: {machine()}; headless Chromium, no GPU (maps drawn in software "
            f"WebGL); {args.repeat} runs each, taken in turn after one untimed run each (caches on the servers "
            "warm, the browser's empty), timed by the page's own clock (see `bench/bench_browser.py`).\n\n"
            + table(list(rows.values()), ["measure", "p50_ms", "p95_ms", "max_ms", "x_floor"])
            + "\n\n### What one phone downloads on its first visit (home page, until the map has painted)\n\n"
            + table(payload, ["kind", "files", "as_served_KB", "gzipped_KB"])
            + "\n\nStreamlit serves its frontend bundle uncompressed by design (it leaves compression to a "
            "reverse proxy); the gzipped column is what a compressing proxy in front sends (see README).")
    write_section(f"browser {args.label}", body)


if __name__ == "__main__":
    main()
