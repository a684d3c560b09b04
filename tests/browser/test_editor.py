"""An engagement lead in a real browser, on a server of its own (a copy of the tiny pack, an editor account in a
secrets file of the test's): signed out, the upload page and the volunteer selection show only the sign-in;
signed in, a survey export with unfamiliar column names is matched, checked and added, and the home page's
respondents (of reach's base: aged 15+, sex and home known) go from 7 to 9 as the editor counts them, and to what
the new responses' record keys publish as a viewer sees them."""
from __future__ import annotations

import bcrypt
import pytest

from analytics import home
from analytics.build import build
from analytics.db import Store
from analytics.metrics import metric
from tests.browser.conftest import DEVICES, open_page, serve, wait_until_settled
from tests.packs import write_tiny_pack

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
SURVEY = (b"Timestamp,Gender,Age,Data zone,Which priorities matter to you?\n"
          b"02/01/2025 10:00,Woman,47,Area A1,Prevention\n"
          b"2025-01-03 11:30,Man,52,a2,Carers\n")


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("editor")
    secrets = tmp / "secrets.toml"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    secrets.write_text(f'[editors.accounts]\nlead = "{hashed}"\n')
    with serve(write_tiny_pack(tmp / "pack"), tmp, "--secrets.files", str(secrets)) as server:
        yield server


@pytest.fixture
def tab(chromium, editor_server):
    context = chromium.new_context(**DEVICES["desktop"])
    page = context.new_page()
    yield page
    context.close()


def respondents(page, url: str) -> str:
    open_page(page, url + "/")
    labels = page.locator('[data-testid="stMetric"]').filter(has_text="Respondents").first
    return labels.locator('[data-testid="stMetricValue"]').inner_text()


def published(pack, tmp) -> tuple[str, float]:
    """The home page's respondents as published for the pack as it now is, and the exact count (a store built
    apart from the server's: the same pack gives the same record keys, so the same published count)."""
    db = tmp / f"check-{len(list(tmp.glob('check-*')))}.duckdb"
    build(pack, db)
    store = Store(db)
    try:
        shown = metric("respondents").format(home.engagement_facts(store)["respondents"])
        return shown, home.engagement_facts(store, exact=True)["respondents"]
    finally:
        store.close()


def upload_survey(tab, url: str) -> None:
    """An editor signs in, uploads SURVEY (a survey export with unfamiliar column names), matches it to activity
    X1 and adds its two responses (tests/test_deploy.py does the same through the hall's proxy)."""
    open_page(tab, url + "/Upload_data")
    tab.get_by_role("textbox", name="Username").fill("lead")
    tab.get_by_role("textbox", name="Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.locator('[data-testid="stFileUploader"] input[type="file"]').wait_for(state="attached", timeout=30_000)
    wait_until_settled(tab)
    tab.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": "Survey export (final).csv", "mimeType": "text/csv", "buffer": SURVEY}])
    tab.get_by_text("Match the columns").wait_for(timeout=30_000)
    wait_until_settled(tab)
    assert tab.get_by_role("combobox", name="sex").input_value() == "Gender"  # guessed from an unfamiliar name
    activity = tab.get_by_role("combobox", name="Which activity are these responses from?")
    activity.click()
    activity.press("ArrowDown")  # near the bottom of the window a click alone does not open the list
    tab.locator('[role="option"]').filter(has_text="X1").first.click()
    wait_until_settled(tab)
    add = tab.get_by_role("button", name="Add 2 responses to the ledger")
    add.wait_for(timeout=30_000)
    add.click()
    tab.get_by_text("Added batch").wait_for(timeout=60_000)


def test_signed_out_nobody_reaches_uploads_or_volunteer_records(tab, editor_server):
    open_page(tab, editor_server.url + "/Upload_data")
    assert tab.get_by_role("textbox", name="Password").count() == 1
    assert tab.locator('[data-testid="stFileUploader"]').count() == 0
    open_page(tab, editor_server.url + "/Citizens_panel")
    assert tab.get_by_text("Select a panel from volunteers").count() == 1
    assert tab.locator('[data-testid="stFileUploader"]').count() == 0
    assert tab.get_by_text("Example pool (engagement respondents)").count() == 0


def test_an_editor_adds_a_survey_export_and_the_home_page_changes(tab, editor_server, tmp_path):
    url = editor_server.url
    before, exact = published(editor_server.pack, tmp_path)
    assert (before, exact) == ("7", 7)
    assert respondents(tab, url) == before
    upload_survey(tab, url)
    after, exact = published(editor_server.pack, tmp_path)
    assert exact == 9
    assert respondents(tab, url) == after
