"""What a viewer does in a real browser: maps actually paint their areas, a filter change redraws the chart and
writes the address, an address restores the view (a bad value falls back with a notice), the numbers behind a
chart open and still pass axe, and presentation mode hides the sidebar and advances on a key press."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from bench.bench_browser import PAINTED_AREAS_JS
from tests.browser import axe
from tests.browser.conftest import wait_until_settled

pytestmark = pytest.mark.browser


def painted_areas(page, maps: int, at_least: int = 1, timeout_ms: int = 60_000) -> list[int]:
    """Areas painted in each map on the page, once all `maps` have painted `at_least` areas each (maplibre
    paints progressively, so an early look sees part of a map) or the wait runs out."""
    page.wait_for_function(f"() => ({PAINTED_AREAS_JS})().filter(n => n >= {at_least}).length >= {maps}",
                           timeout=timeout_ms)
    return page.evaluate(PAINTED_AREAS_JS)


def choose(page, label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
    page.locator('[role="option"]').filter(has_text=option).first.click()
    wait_until_settled(page)


@pytest.fixture(scope="module")
def map_sizes(warm_app) -> dict[str, int]:
    """How many small areas and neighbourhoods the served pack has, read from its store."""
    import duckdb
    con = duckdb.connect(str(warm_app.db), read_only=True)
    try:
        return dict(zip(("area", "neighbourhood"), con.execute(
            "SELECT count(DISTINCT area_code), count(DISTINCT neighbourhood_code) FROM areas").fetchone()))
    finally:
        con.close()


@pytest.mark.parametrize("path, levels", [("/", ["neighbourhood"]), ("/Needs_profile", ["area"]),
                                          ("/Needs_profile?map=deprivation", ["area"]),
                                          ("/Engagement_reach", ["neighbourhood"])])
def test_maps_paint_every_area(open_app, map_sizes, path, levels):
    view = open_app(path, "desktop")
    expected = [map_sizes[level] for level in levels]
    painted = painted_areas(view.page, len(levels), at_least=min(expected))
    assert painted == expected, painted  # e.g. the demo's 110 neighbourhoods, 800 small areas
    assert not [e for e in view.http_errors if "/app/static/" in e], view.http_errors


def test_a_filter_change_redraws_the_chart_and_writes_the_address(open_app):
    view = open_app("/Needs_profile", "desktop")
    page = view.page
    page.get_by_text("Age and sex of residents, the partnership").first.wait_for()
    choose(page, "Locality", "Eastfield")
    page.get_by_text("Age and sex of residents, Eastfield").first.wait_for(timeout=30_000)
    assert "locality=Eastfield" in page.url
    assert not view.external_requests()


def test_the_address_restores_the_view_and_a_bad_value_falls_back(open_app):
    view = open_app("/Needs_profile?locality=Eastfield&year=2030", "phone")
    assert view.page.get_by_role("combobox", name="Locality").input_value() == "Eastfield"
    assert view.page.get_by_role("combobox", name="Projection year").input_value() == "2030"
    assert "Age and sex of residents, Eastfield" in view.text()
    bad = open_app("/Needs_profile?locality=Atlantis", "phone")
    assert "which is not available" in bad.text() and "Atlantis" in bad.text()


def test_the_numbers_behind_a_chart_open_and_pass_axe(open_app):
    view = open_app("/Engagement_reach", "phone")
    page = view.page
    tables = page.locator('[data-testid="stDataFrame"]').count()
    page.locator('[data-testid="stExpander"] summary').first.click()
    wait_until_settled(page)
    page.locator('[data-testid="stDataFrame"]').nth(tables).wait_for(timeout=30_000)
    wait_until_settled(page)  # the click's rerun may start after the first check: let it finish (no faded elements)
    assert page.locator('[data-testid="stDataFrame"]').count() == tables + 1
    with view.whole_page():
        failing, _ = axe.split(axe.violations(page))
    assert not failing, axe.summary(failing)


def test_presentation_mode_hides_the_sidebar_and_advances_on_a_key(open_app):
    view = open_app("/?present=1", "desktop")
    page = view.page
    assert "slide 1 of 6" in view.text()
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    page.locator("body").press("ArrowRight")
    page.get_by_text("slide 2 of 6").wait_for(timeout=30_000)
    wait_until_settled(page)  # until the run ends, Back is still the first slide's (disabled) button
    page.locator("body").press("ArrowLeft")
    page.get_by_text("slide 1 of 6").wait_for(timeout=30_000)
    assert not view.external_requests()


def test_the_last_slide_shows_a_qr_code_that_fits_a_phone(open_app):
    view = open_app("/?present=1", "phone")
    page = view.page
    for step in range(2, 7):
        page.get_by_role("button", name="Next ▶").click()
        page.get_by_text(f"slide {step} of 6").wait_for(timeout=30_000)
        wait_until_settled(page)
    qr = page.get_by_role("img", name="QR code for")
    qr.wait_for(timeout=30_000)
    page.wait_for_function("() => [...document.images].some(i => i.alt.startsWith('QR code') && i.naturalWidth > 0)")
    box = qr.bounding_box()
    assert box and box["width"] > 150 and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, box
    view.screenshot("presentation-qr")


def test_the_needs_profile_for_every_locality_variant_and_a_spread_of_years(open_app, warm_app):
    import duckdb
    con = duckdb.connect(str(warm_app.db), read_only=True)
    try:
        localities = [r[0] for r in con.execute("SELECT DISTINCT locality FROM areas ORDER BY 1").fetchall()]
        variants = [r[0] for r in con.execute("SELECT DISTINCT variant FROM projections ORDER BY 1").fetchall()]
        years = [r[0] for r in con.execute("SELECT DISTINCT year FROM projections ORDER BY 1").fetchall()]
    finally:
        con.close()
    for i, locality in enumerate(localities):
        variant, year = variants[i % len(variants)], years[(i * 7 + 3) % len(years)]
        query = urlencode({"locality": locality, "variant": variant, "year": year})  # "City Centre & University"
        view = open_app(f"/Needs_profile?{query}", "desktop")
        assert f"Age and sex of residents, {locality}" in view.text(), (locality, variant, year)
        assert min(painted_areas(view.page, 1)) > 0, (locality, variant, year)  # the map drawn
        view.page.close()


def test_a_filter_can_be_reached_and_changed_with_the_keyboard_alone(open_app):
    view = open_app("/Needs_profile", "desktop")
    page = view.page
    for _ in range(60):  # Tab from the top of the page until the locality filter has the focus
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Locality":
            break
    else:
        pytest.fail("Tab never reached the Locality filter")
    page.keyboard.press("ArrowDown")  # opens the list on the current choice
    page.locator('[role="listbox"]').wait_for(timeout=10_000)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    wait_until_settled(page)
    chosen = page.get_by_role("combobox", name="Locality").input_value()
    assert chosen != "Whole partnership" and f"Age and sex of residents, {chosen}" in view.text()
    assert "locality=" in page.url
