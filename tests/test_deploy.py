"""Issue 21, for real on loopback: HAProxy (deploy/haproxy.cfg.in) in front of two replicas (deploy/hall.py) on a
copy of the tiny pack. 100 websocket tabs go through the proxy with no error and reach both replicas; static files
arrive gzipped; a browser gets the stickiness cookie and runs the page through the proxy; an editor's upload
through the proxy is committed, and the other replica, asked directly, shows it.
"""
from __future__ import annotations

import asyncio
import gzip
import re
import shutil
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import bcrypt
import pytest

from analytics import home
from analytics.build import build
from analytics.db import Store
from analytics.metrics import metric
from bench.bench_load import crowd
from bench.stclient import open_page as ws_open_page
from deploy.hall import HAPROXY, Hall, hall, render_config
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DEVICES, missing_requirement, open_page
from tests.browser.test_editor import PASSWORD, upload_survey
from tests.packs import write_tiny_pack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Hall:
    if shutil.which(HAPROXY) is None:
        missing_requirement("haproxy is not installed (apt-get install haproxy)")
    tmp = tmp_path_factory.mktemp("hall")
    secrets = tmp / "secrets.toml"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    secrets.write_text(f'[editors.accounts]\nlead = "{hashed}"\n')
    pack, db = write_tiny_pack(tmp / "pack"), tmp / "store.duckdb"
    build(pack, db)  # the one writer, before the replicas start (deploy.hall.prepare_store, without precomputing)
    with hall(2, pack, db, streamlit_args=("--secrets.files", str(secrets)), run_dir=tmp / "run") as started:
        yield started


def in_thread(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API keeps a loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def get(url: str, gzip_ok: bool = True) -> tuple[dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gzip_ok else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return {k.lower(): v for k, v in response.headers.items()}, response.read()


def stored(db: Path) -> tuple[int, str]:
    """Responses in the store, and the home page's Respondents figure as the store gives it (published counts are
    perturbed, issue 18, so the figure is read from the store rather than written here)."""
    store = Store(db)
    try:
        return int(home.overview(store)["responses"]), metric("respondents").format(
            home.engagement_facts(store)["respondents"])
    finally:
        store.close()


def respondents(url: str) -> str:
    run = in_thread(ws_open_page(url, "/", message_timeout=120, run_timeout=180))
    assert run.ok, run.errors
    return run.metrics()["Respondents"]


def test_the_config_sticks_by_cookie_and_checks_health(tmp_path):
    config = render_config("127.0.0.1:8500", [("r1", 8601), ("r2", 8602)], tmp_path)
    assert "cookie REACH_REPLICA insert indirect nocache" in config
    assert "server r2 127.0.0.1:8602 cookie r2" in config
    assert "option httpchk GET /_stcore/health" in config and "option forwardfor" in config
    assert "balance source" not in config  # never by address: a venue's phones share one


def test_a_hundred_tabs_through_the_proxy_reach_both_replicas_without_error(running):
    before = running.sessions_by_replica()
    result = in_thread(crowd(SimpleNamespace(url=running.url, rss_mb=lambda: 0.0), ["/Needs_profile", "/Engagement_reach", "/Hard_to_reach"],
                             sessions=100, arrival=8, changes=1, think=0.5, overall_timeout=150,
                             message_timeout=60, run_timeout=120, idle=0.5, seed=1))
    runs = [r for v in result["visits"] for r in v.runs]
    errors = [e for v in result["visits"] for e in v.errors] + [e for r in runs for e in r.errors]
    assert errors == [] and len(runs) == 200 and all(r.ok for r in runs)
    after = running.sessions_by_replica()
    spread = {name: after[name] - before.get(name, 0) for name in after}
    assert set(spread) == {"r1", "r2"} and min(spread.values()) >= 40, spread  # round robin: ~50 each


def test_static_files_arrive_gzipped(running):
    headers, page = get(running.url + "/")
    assert headers.get("content-encoding") == "gzip"
    script = re.search(r'src="\.?/?(static/js/[^"]+\.js)"', gzip.decompress(page).decode())[1]
    headers, zipped = get(f"{running.url}/{script}")
    _, plain = get(f"{running.replicas[0].url}/{script}", gzip_ok=False)  # as Streamlit serves it
    assert headers.get("content-encoding") == "gzip" and gzip.decompress(zipped) == plain
    assert len(zipped) < 0.5 * len(plain)


def test_a_browser_and_an_upload_go_through_the_proxy_and_the_commit_reaches_the_other_replica(running):
    if not CHROMIUM.exists():
        missing_requirement(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(**DEVICES["desktop"])
            sockets = []
            tab = context.new_page()
            tab.on("websocket", lambda ws: sockets.append(ws.url))
            open_page(tab, running.url + "/")
            sticky = {c["name"]: c["value"] for c in context.cookies()}.get("REACH_REPLICA")
            assert sticky in ("r1", "r2") and sockets and all(s.startswith(running.url.replace("http", "ws"))
                                                                 for s in sockets)
            other = next(r for r in running.replicas if r.name != sticky)
            assert stored(running.db) == (8, respondents(other.url))
            upload_survey(tab, running.url)
            assert {c["name"]: c["value"] for c in context.cookies()}["REACH_REPLICA"] == sticky
            # The other replica reopened the rebuilt store on its next run: it shows the new store's figure.
            assert stored(running.db) == (10, respondents(other.url))
        finally:
            browser.close()
