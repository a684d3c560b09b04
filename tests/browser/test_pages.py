"""Every page in a real browser, at desktop (1366 px), wide (1920 px) and phone (390 px) width: it runs without an
exception, has a heading, fetches nothing from outside 127.0.0.1, passes axe (WCAG 2.2 AA, serious and critical),
does not scroll sideways on a phone, and shows none of the registry's codes. The home page also shows the store's
headline figures and the synthetic-data banner. Screenshots go to test-artifacts/screenshots/."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import duckdb
import pytest

from analytics import metrics
from analytics.disclosure import MAX_ADJUSTMENT
from tests.browser import axe
from tests.browser.conftest import DEVICES

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = sorted((ROOT / "pages").glob("*.py"))


def url_path(script: Path) -> str:
    """The address Streamlit gives a file in pages/: the number prefix and separators go, underscores stay
    (streamlit.source_util.PAGE_FILENAME_REGEX); checked against the live navigation below."""
    return "/" + re.fullmatch(r"([0-9]*)[_ -]*(.*)\.py", script.name)[2]


OVERFLOW_JS = """() => {
  const width = window.innerWidth, doc = document.documentElement;
  const main = document.querySelector('[data-testid="stMain"]');
  const clips = (el) => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const describe = (el) => {
    const classes = typeof el.className === 'string' ? el.className.trim().split(/\\s+/).filter(Boolean) : [];
    return el.tagName.toLowerCase() + (el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : '')
      + (classes.length ? '.' + classes.slice(0, 2).join('.') : '');
  };
  const offenders = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    let clipped = false;  // inside a scrolling/clipping box that fits the screen: that box scrolls, not the page
    for (let p = el.parentElement; p && p !== main && !clipped; p = p.parentElement) {
      clipped = clips(p) && p.getBoundingClientRect().right <= width + 1;
    }
    if (!clipped) offenders.push(`${describe(el)} (right edge ${Math.round(r.right)} px)`);
  }
  return {width, document: doc.scrollWidth, main: main ? main.scrollWidth : 0,
          mainClient: main ? main.clientWidth : 0, offenders: offenders.slice(0, 5)};
}"""


CODE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, metrics.registry_codes()), key=len, reverse=True))
                  + r")\b")


def shown_codes(view) -> list[str]:
    """Registry codes (focus_group, per_1000_low, …) in the page's visible text, charts included; text set as code
    on purpose (a file's column names, in <code>) is left out."""
    text = view.text()
    for code in view.page.locator('[data-testid="stMain"] code').all_inner_texts():
        text = text.replace(code, " ")
    return sorted(set(CODE.findall(text)))


def common_problems(view, where: str) -> list[str]:
    """The checks every page must pass; returns every problem found (all reported together). Ends with the
    screenshot (which resizes the viewport for a moment)."""
    problems = []
    if view.page.locator('[data-testid="stMain"] h1').count() == 0:
        problems.append("no <h1> heading in the page")
    if external := view.external_requests():
        problems.append(f"{len(external)} request(s) to hosts other than 127.0.0.1/localhost: "
                        f"{sorted(set(external))[:10]}")
    if view.device == "phone":
        o = view.page.evaluate(OVERFLOW_JS)
        if o["document"] > o["width"] + 1 or o["main"] > o["mainClient"] + 1:
            problems.append(f"scrolls sideways at {o['width']} px: document {o['document']} px wide, main column "
                            f"{o['main']} px in {o['mainClient']} px; widest: {o['offenders']}")
    if codes := shown_codes(view):
        problems.append(f"codes in the text a viewer reads (issue 20; names are in analytics/metrics.py): {codes}")
    with view.whole_page():
        failing, tolerated = axe.split(axe.violations(view.page))
    if tolerated:
        print(f"axe on {where}, not failing:\n{axe.summary(tolerated)}")
    if failing:
        problems.append(f"axe: serious/critical WCAG violations:\n{axe.summary(failing)}")
    if view.console_errors or view.http_errors:  # reported, not failed on: worth a look when a test fails
        print(f"on {where}: browser console errors {view.console_errors[:5]}; HTTP errors {view.http_errors[:5]}")
    view.screenshot()
    return problems


@pytest.fixture(scope="package")
def store_figures(warm_app) -> dict:
    """The headline figures read straight from the store the server built, not through the app's code."""
    if not warm_app.db.is_file():
        pytest.fail(f"The server built no store at {warm_app.db}. First run of the home page:\n"
                    f"{warm_app.first_run_error or '(no exception shown)'}", pytrace=False)
    con = duckdb.connect(str(warm_app.db), read_only=True)
    try:
        residents = con.execute("SELECT sum(population) FROM population").fetchone()[0]
        # Reach's one base (analytics/reach.py): aged 15+, sex F or M, home area's locality and quintile known.
        responses = con.execute(
            "SELECT count(*) FROM responses r JOIN areas a USING (area_code) JOIN deprivation d USING (area_code) "
            "WHERE r.sex IN ('F', 'M') AND a.locality IS NOT NULL AND d.quintile IS NOT NULL "
            "AND r.age_band NOT IN ('', '0-4', '5-9', '10-14')").fetchone()[0]
    finally:
        con.close()
    pack = tomllib.loads((warm_app.pack / "pack.toml").read_text(encoding="utf-8"))
    return {"residents": int(residents), "responses": int(responses), "synthetic": bool(pack.get("synthetic"))}


@pytest.mark.parametrize("device", DEVICES)
def test_home_page(open_app, store_figures, device):
    view = open_app("/", device)
    where = f"home page at {view.width} px"
    problems = common_problems(view, where)
    text = view.text()
    shown = view.page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    if f"{store_figures['residents']:,}" not in text:
        problems.append(f"residents {store_figures['residents']:,} (from the store) not shown; metric values: {shown}")
    # Respondents are published with cell-key perturbation (analytics/disclosure.py): never more than 8 away.
    heard = store_figures["responses"]
    if not any(f"{value:,}" in shown for value in range(heard - MAX_ADJUSTMENT, heard + MAX_ADJUSTMENT + 1)):
        problems.append(f"respondents within {MAX_ADJUSTMENT} of {heard:,} (the store's base) not shown; metric "
                        f"values: {shown}")
    banner = view.page.locator('[data-testid="stAlert"]').filter(has_text="Demonstration data")
    if store_figures["synthetic"] and not banner.first.is_visible():
        problems.append("the 'Demonstration data' banner is not visible for a synthetic pack")
    if not store_figures["synthetic"] and banner.count():
        problems.append("the 'Demonstration data' banner shows for a real pack")
    assert not problems, f"{where}:\n" + "\n".join(f"- {p}" for p in problems)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("script", PAGE_FILES, ids=lambda p: p.stem)
def test_page(open_app, script, device):
    view = open_app(url_path(script), device)
    where = f"{script.relative_to(ROOT)} ({url_path(script)}) at {view.width} px"
    problems = common_problems(view, where)
    assert not problems, f"{where}:\n" + "\n".join(f"- {p}" for p in problems)


def test_page_addresses_match_the_navigation(warm_app):
    """The addresses the tests above open are the ones Streamlit's own sidebar links to (read on the first run)."""
    assert PAGE_FILES, "no pages/*.py found"
    assert sorted(warm_app.navigation) == sorted(["/"] + [url_path(p) for p in PAGE_FILES])


def test_the_home_page_is_called_home_in_the_navigation(open_app):
    """Streamlit names the main page after its file; the page script renames it (analytics/styles.py)."""
    view = open_app("/Needs_profile", "desktop")
    links = view.page.locator('[data-testid="stSidebarNavItems"] [data-testid="stSidebarNavLink"]')
    links.first.filter(has_text="Home").wait_for(timeout=5_000)
    names = [t.strip() for t in links.all_inner_texts()]
    assert names[0] == "Home" and "dashboard" not in " ".join(names).lower(), names
