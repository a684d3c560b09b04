"""Charts read in a real browser at 390, 1366 and 1920 px (issue 20): in every interval bar chart no value label
overlaps another text, a whisker or a reference line (bounding boxes measured in the page), no chart text is
smaller than 11 px, and each chart's title is written above it as text that wraps, not under its toolbar."""
from __future__ import annotations

import pytest

from tests.browser.conftest import DEVICES, wait_until_settled

pytestmark = pytest.mark.browser

# Pages with interval bar charts (whiskers, reference lines); the Citizens panel's paired bars have none.
INTERVAL_PAGES = ["/Engagement_reach", "/Reach_over_time", "/Hard_to_reach", "/Insight_library", "/Survey_weighting",
                  "/Citizens_panel"]
TABBED = ("/Survey_weighting", "/Insight_library")  # charts in tabs after the first

# Every text box and every whisker or reference line, per chart, in page pixels. Plotly draws value labels as
# annotations (or, on a bar, .bartext), tick labels in .xtick/.ytick, whiskers in .errorbar and reference lines
# in the shape layer.
BOXES_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')].map(gd => {
  const box = (el) => { const r = el.getBoundingClientRect();
                        return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom, text: el.textContent || '',
                                size: parseFloat(getComputedStyle(el).fontSize) || 0}; };
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const all = (sel) => [...gd.querySelectorAll(sel)].filter(shown).map(box);
  return {
    values: all('.annotation-text, .bartext'),
    ticks: all('.xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .legendtext'),
    lines: all('.errorbar path, .shapelayer path'),
    hasIntervals: gd.querySelectorAll('.errorbar path, .shapelayer path').length > 0,
  };
})"""


def overlaps(a: dict, b: dict, slack: float = 0.5) -> bool:
    return a["x0"] < b["x1"] - slack and b["x0"] < a["x1"] - slack and a["y0"] < b["y1"] - slack \
        and b["y0"] < a["y1"] - slack


def collisions(chart: dict) -> list[str]:
    found = []
    values, texts = chart["values"], chart["values"] + chart["ticks"]
    for i, v in enumerate(values):
        found += [f"value {v['text']!r} over {line['text'] or 'a whisker or line'}" for line in chart["lines"]
                  if overlaps(v, line)]
        found += [f"value {v['text']!r} over text {t['text']!r}" for t in texts[i + 1:] if overlaps(v, t)]
    return found


def all_tabs(page) -> None:
    """Open each tab in turn so its charts are drawn (Streamlit draws a tab's charts once it is shown)."""
    for tab in page.get_by_role("tab").all():
        tab.click()
        wait_until_settled(page)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("path", INTERVAL_PAGES)
def test_interval_charts_have_no_overlapping_text(open_app, path, device):
    view = open_app(path, device)
    charts = []
    with view.whole_page():
        view.page.wait_for_timeout(500)
        charts += view.page.evaluate(BOXES_JS)
        if path in TABBED:
            all_tabs(view.page)
            charts += view.page.evaluate(BOXES_JS)
    interval = [c for c in charts if c["values"]]
    assert interval, f"no bar chart with a value column on {path}"
    problems = [p for c in interval for p in collisions(c)]
    small = sorted({round(t["size"], 1) for c in charts for t in c["values"] + c["ticks"] if 0 < t["size"] < 11})
    assert not problems, f"{path} at {view.width} px: {problems[:10]}"
    assert not small, f"{path} at {view.width} px: chart text of {small} px"
    assert any(c["hasIntervals"] for c in interval) or path == "/Citizens_panel"


@pytest.mark.parametrize("device", DEVICES)
def test_the_presenters_interval_chart_has_no_overlapping_text(open_app, device):
    view = open_app("/?present=1", device)
    for step in range(2, 6):  # slide 5: who we heard
        view.page.get_by_role("button", name="Next ▶").click()
        view.page.get_by_text(f"slide {step} of", exact=False).first.wait_for(timeout=30_000)
        wait_until_settled(view.page)
    charts = [c for c in view.page.evaluate(BOXES_JS) if c["values"]]
    assert charts and charts[0]["hasIntervals"]
    problems = [p for c in charts for p in collisions(c)]
    assert not problems, f"slide 5 at {view.width} px: {problems[:10]}"


def test_chart_titles_are_text_above_the_chart_not_under_its_toolbar(open_app):
    view = open_app("/Engagement_reach", "phone")
    titles = view.page.locator("p.chart-title")
    assert titles.count() >= 4
    box, width = titles.nth(1).bounding_box(), view.width
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box  # wraps within the screen
    assert view.page.locator(".gtitle").first.is_hidden()  # the figure's own copy, kept for the PNG download


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_qr_slide_fits_with_its_address_and_warns_on_a_local_address(open_app, device_contexts, size):
    view = open_app("/?present=1", "desktop")
    page = view.page
    page.set_viewport_size({"width": size[0], "height": size[1]})
    for step in range(2, 7):
        page.get_by_role("button", name="Next ▶").click()
        page.get_by_text(f"slide {step} of", exact=False).first.wait_for(timeout=30_000)
        wait_until_settled(page)
    page.wait_for_function("() => [...document.images].some(i => i.alt.startsWith('QR code') && i.naturalWidth > 0)")
    qr, address = page.get_by_role("img", name="QR code for").bounding_box(), page.locator("p.qr-address")
    box = address.bounding_box()
    assert qr["height"] >= 250 and box["y"] + box["height"] <= size[1], (qr, box)  # both on screen, no scrolling
    assert "only works on this computer" in view.text()  # the test server's address is 127.0.0.1
    links = page.locator('[data-testid="stMain"] a[href]').evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert not [h for h in links if not h.startswith('#')], links  # no links on a slide (a heading's own anchor aside)
    assert page.locator('[data-testid="stAlert"]').filter(has_text="Demonstration data").count() == 0
    assert page.locator("p.demo-marker").is_visible()


def test_an_invalid_autoplay_says_so(open_app):
    view = open_app("/?present=1&autoplay=fast", "desktop")
    assert "autoplay 'fast', which is not a number of seconds from 5 to 600" in view.text()
    assert "slide 1 of" in view.text() and "Reach & Need" in view.text()  # the title slide


def test_on_a_phone_the_heatmap_is_a_sorted_list(open_app):
    phone, desktop = open_app("/Engagement_reach", "phone"), open_app("/Engagement_reach", "desktop")
    for view, shown, hidden in ((phone, "narrow", "wide"), (desktop, "wide", "narrow")):
        assert view.page.locator(f".st-key-{shown}_locality_by_community").is_visible()
        assert view.page.locator(f".st-key-{hidden}_locality_by_community").is_hidden()
    assert phone.page.locator('.st-key-narrow_locality_by_community [data-testid="stDataFrame"]').is_visible()


def test_a_printed_page_has_no_sidebar_and_its_map_drawn(open_app):
    view = open_app("/", "desktop")
    page = view.page
    page.wait_for_function("() => [...document.querySelectorAll('img.map-snapshot')]"
                           ".some(i => i.src.startsWith('data:image/png') && i.naturalWidth > 0)", timeout=60_000)
    page.emulate_media(media="print")
    try:
        assert page.locator('[data-testid="stSidebar"]').is_hidden()
        assert page.locator("img.map-snapshot").first.is_visible()
        assert page.locator(".map-labels span").count() >= 2  # locality names over the map
    finally:
        page.emulate_media(media="screen")


def test_the_briefing_prints_on_one_a4_page(chromium, warm_app, tmp_path):
    import re
    import shutil

    from analytics import briefing
    from analytics.db import Store
    shutil.copy(warm_app.db, tmp_path / "store.duckdb")  # the server keeps its own open
    html = briefing.briefing_html(Store(tmp_path / "store.duckdb"), 2034)
    page = chromium.new_page()
    try:
        page.set_content(html)
        pdf = page.pdf(format="A4", prefer_css_page_size=True)
    finally:
        page.close()
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
