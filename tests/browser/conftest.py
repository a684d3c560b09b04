"""Browser-test harness: one real `streamlit run dashboard.py` per test run, driven by Debian's Chromium.

Fixtures
- `app_server`: the running server (base URL, pack and store paths); started once, its process group
  killed at the end.
- `chromium`: one headless Chromium for the session (Playwright's own browser download is not used).
- `warm_app`: the home page opened once, so the store exists (the first visitor builds it).
- `device_contexts(device)`: one browser context per device size ("desktop" 1366x900, "wide" 1920x1080,
  "phone" 390x844).
- `open_app(path, device)`: a new tab (so a new Streamlit session) at that size, opened and settled by
  `open_page`; returns a `View` with the page, every request URL it made and a `screenshot()` helper.

The server, browser and contexts are package-scoped: shared by every browser test, and closed as soon as the
last one has run (Playwright's sync API keeps an asyncio loop running in the main thread while it is open,
which would break later tests that call asyncio.run()).

Nothing leaves 127.0.0.1: Chromium's background services are off, and its resolver answers NOTFOUND for every
host name except localhost, so a stray outside request is recorded (and then asserted on) but never sent.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # Without these Chromium phones Google (updates, safe browsing, sync) on start.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
    # Belt and braces: no host name but localhost resolves, so nothing can leave the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]

DEVICES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "wide": {"viewport": {"width": 1920, "height": 1080}},  # a hall's projector, a large monitor
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2},
}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# On a page's own address Streamlit's frontend first asks <page>/_stcore/{health,host-config} to find the base
# path, and gets 404s by design before falling back to /_stcore/…; those are not the app's errors.
BASE_PATH_PROBE = re.compile(r"/[^/]+/_stcore/(health|host-config)$")
NON_NETWORK_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}

STARTUP_TIMEOUT_S = 90   # the server answering /_stcore/health
FIRST_RUN_TIMEOUT_S = 180  # the first page run builds the DuckDB store from the pack
PAGE_TIMEOUT_S = 90
SCREENSHOT_MAX_HEIGHT = 6000  # CSS px


def missing_requirement(reason: str) -> None:
    """Skip locally; fail in CI, where every browser test must really run."""
    if IN_CI:
        pytest.fail(f"{reason} (in CI a missing browser test requirement is a failure)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------------------------- server

@dataclass
class Server:
    url: str
    pack: Path
    db: Path
    log: Path
    process: subprocess.Popen
    first_run_error: str = ""
    navigation: list[str] = field(default_factory=list)  # paths the sidebar links to, read on the first run

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip()
    except OSError:
        return None


def _choose_pack(tmp: Path) -> Path:
    """$REACH_PACK if set; else the demonstration pack; else (while it is being generated) the tiny pack."""
    if os.environ.get("REACH_PACK"):
        return Path(os.environ["REACH_PACK"]).resolve()
    demo = ROOT / "data" / "demo"
    if (demo / "pack.toml").is_file():
        return demo
    from tests.packs import write_tiny_pack
    return write_tiny_pack(tmp / "tiny-pack")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # the server runs in its own process group
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


@contextmanager
def serve(pack: Path, tmp: Path, *options: str) -> Iterator[Server]:
    """A `streamlit run dashboard.py` on 127.0.0.1 for the pack, its store and log in `tmp`, with any further
    command-line options; stopped (its whole process group) afterwards."""
    db, log = tmp / "store.duckdb", tmp / "streamlit.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "REACH_PACK": str(pack), "REACH_DB": str(db), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", *options]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(url, pack, db, log, process)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while _health(url) != "ok":
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with code {process.returncode} before answering:\n"
                            f"{server.log_tail()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer {url}/_stcore/health within {STARTUP_TIMEOUT_S} s:\n"
                            f"{server.log_tail()}", pytrace=False)
            time.sleep(0.25)
        yield server
    finally:
        _stop(process)


@pytest.fixture(scope="package")
def app_server(tmp_path_factory) -> Server:
    tmp = tmp_path_factory.mktemp("server")
    with serve(_choose_pack(tmp), tmp) as server:
        yield server


# --------------------------------------------------------------------------------------------- browser

@pytest.fixture(scope="package")
def chromium():
    if not CHROMIUM.exists():
        missing_requirement(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def host_of(url: str) -> str | None:
    """The host a URL would contact, or None for URLs that make no network request (data:, blob:, …)."""
    parts = urlsplit(url)
    if parts.scheme in NON_NETWORK_SCHEMES:
        return None
    return (parts.hostname or "").lower()


# Streamlit's own markers (data-testid names checked in streamlit 1.67's static/js bundle):
#   stApp                (root; carries data-test-script-state = initial | running | notRunning | …)
#   stMain               (the main column), stStatusWidget + stStatusWidgetRunningIcon / …RunningManIcon
#   stException          (an uncaught exception shown in the page)
#   stSkeleton           (placeholder while an element's code loads), stPlotlyChart (drawn once it has .main-svg)
SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return {state: 'no-app'};
  const visible = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const undrawn = (chart) => !chart.querySelector('.main-svg');
  const running = [...document.querySelectorAll(
      '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]')].some(visible);
  return {
    state: app.getAttribute('data-test-script-state'),
    connection: app.getAttribute('data-test-connection-state'),
    running,
    main: document.querySelectorAll('[data-testid="stMain"]').length,
    pending: [...document.querySelectorAll('[data-testid="stSkeleton"]')].filter(visible).length
      + [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(undrawn).length,
    exceptions: [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText.slice(0, 2000)),
  };
}"""


class StreamlitException(AssertionError):
    pass


EXCEPTION_LINKS = {"Copy", "Ask Google", "Ask ChatGPT"}  # buttons in Streamlit's exception box, not its text


def wait_until_settled(page, timeout_s: float = PAGE_TIMEOUT_S) -> dict:
    """Wait for Streamlit to finish running the page's script; raise at once if it shows an exception."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    deadline, calm, status = time.monotonic() + timeout_s, 0, {}
    while time.monotonic() < deadline:
        status = page.evaluate(SETTLED_JS)
        if status.get("exceptions"):
            shown = "\n---\n".join(
                "\n".join(line for line in text.splitlines() if line.strip() not in EXCEPTION_LINKS)
                for text in status["exceptions"])
            raise StreamlitException(f"{page.url} shows an exception:\n{shown}")
        done = (status.get("state") == "notRunning" and not status.get("running") and status.get("main", 0) > 0
                and not status.get("pending"))
        calm = calm + 1 if done else 0
        if calm >= 2:  # settled on two polls in a row: no immediate rerun followed
            return status
        page.wait_for_timeout(250)
    raise AssertionError(f"{page.url} did not finish running within {timeout_s:.0f} s (last status {status})")


def open_page(page, url: str, timeout_s: float = PAGE_TIMEOUT_S) -> dict:
    """Go to `url` and wait until Streamlit has finished running it (see wait_until_settled)."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_s * 1000)
    return wait_until_settled(page, timeout_s)


@dataclass
class View:
    """One page opened at one device size, with everything it asked the network for."""
    page: object
    device: str
    width: int
    name: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)

    def external_requests(self) -> list[str]:
        return [u for u in self.requests if (h := host_of(u)) is not None and h.strip("[]") not in LOCAL_HOSTS]

    def text(self) -> str:
        return self.page.locator('[data-testid="stMain"]').first.inner_text()

    @contextmanager
    def whole_page(self) -> Iterator[None]:
        """Streamlit scrolls inside stMain, not the document, so what is below the fold is out of view: axe then
        skips its colour contrast and a screenshot misses it. The viewport is made as tall as the content (up to
        SCREENSHOT_MAX_HEIGHT) meanwhile, then put back."""
        size = self.page.viewport_size
        hidden = self.page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
                                              return m ? m.scrollHeight - m.clientHeight : 0; }""")
        tall = min(size["height"] + max(hidden, 0), SCREENSHOT_MAX_HEIGHT)
        if tall > size["height"]:
            self.page.set_viewport_size({"width": size["width"], "height": tall})
            self.page.wait_for_timeout(300)  # let charts lay out again
        try:
            yield
        finally:
            if tall > size["height"]:
                self.page.set_viewport_size(size)

    def screenshot(self, label: str | None = None) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{safe_name(label or self.name)}-{self.width}.png"
        with self.whole_page():
            self.page.screenshot(path=str(path), full_page=True)
        return path


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


@pytest.fixture(scope="package")
def device_contexts(chromium):
    """One browser context per device size for the session (so Streamlit's scripts are fetched once each);
    every test opens its own tab, and so its own Streamlit session."""
    contexts = {}
    yield lambda device: contexts.get(device) or contexts.setdefault(device, chromium.new_context(**DEVICES[device]))
    for context in contexts.values():
        context.close()


@pytest.fixture(scope="package")
def warm_app(device_contexts, app_server) -> Server:
    """Open the home page once: the first run builds the store, which can take a while on a fresh machine.
    An exception on the page is left to the page's own test (every page is still tried); a server that does not
    finish the first run at all fails every browser test."""
    page = device_contexts("desktop").new_page()
    try:
        try:
            open_page(page, app_server.url + "/", FIRST_RUN_TIMEOUT_S)
        except StreamlitException as exc:
            app_server.first_run_error = str(exc)
        more = page.locator('[data-testid="stSidebarNavViewButton"]')  # over 12 pages: "View 3 more"
        if more.count():
            more.click()
            page.get_by_text("View less").wait_for(timeout=10_000)
        app_server.navigation = page.locator('[data-testid="stSidebarNav"] a').evaluate_all(
            "links => links.map(a => new URL(a.href).pathname)")
    except AssertionError as exc:
        pytest.fail(f"The home page did not run on first start: {exc}\nServer log:\n{app_server.log_tail()}",
                    pytrace=False)
    finally:
        page.close()
    return app_server


@pytest.fixture
def open_app(warm_app, device_contexts, request):
    """open_app(path, device) -> View: a new tab at that device size, opened and settled; closed after the test."""
    pages = []

    def _open(path: str, device: str) -> View:
        page = device_contexts(device).new_page()
        pages.append(page)
        slug = path.strip("/").split("?")[0] or "home"
        view = View(page, device, DEVICES[device]["viewport"]["width"], f"{request.node.originalname}-{slug}")
        page.on("request", lambda r: view.requests.append(r.url))
        page.on("websocket", lambda ws: view.requests.append(ws.url))
        page.on("console", lambda m: view.console_errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        page.on("pageerror", lambda e: view.console_errors.append(f"pageerror: {e}"))
        page.on("response", lambda r: view.http_errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not BASE_PATH_PROBE.search(r.url) else None)
        try:
            open_page(page, warm_app.url + path)
        except AssertionError:
            view.screenshot()  # keep the evidence before failing
            raise
        return view

    yield _open
    for page in pages:
        page.close()
