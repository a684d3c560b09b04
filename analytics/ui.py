"""The one analytics module that imports Streamlit: page setup, the cached store, cached results, URL filters.

Caching sits exactly here, at the boundary between pages and computation: results are cached per function,
arguments and store fingerprint, so every session shares them and a rebuilt store is never served stale.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import re
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import auth, config, figures, geo
from analytics.build import ensure_store
from analytics.cache import SharedCache
from analytics.db import Store
from analytics.export import safe_csv, screen_table
from analytics.schema import PackInvalid, Problem

log = logging.getLogger(__name__)

# The PNG button draws the chart in the browser, so it works offline; no Plotly logo or cloud links.
PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def _stamp(db: Path) -> tuple[int, int, int]:
    """The store file's identity (inode, mtime, size): a rebuild replaces the file, so this changes exactly when
    the store is rebuilt (e.g. after an upload is committed). One cheap os.stat per call."""
    try:
        info = os.stat(db)
    except FileNotFoundError:
        return (0, 0, 0)
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _fresh_path(db: Path) -> Path:
    """A path of its own for the current store file. DuckDB keeps one database per path in a process, so while
    any connection to a replaced store is open, opening the path again would still read the old file; a hard
    link named for the file's identity avoids that. Links to replaced files are removed (open ones keep working)."""
    ino, mtime, _ = _stamp(db)
    link = db.with_name(f".{db.name}.{ino}-{mtime}.open")
    try:
        try:
            os.link(db, link)
        except FileExistsError:
            pass
        for old in db.parent.glob(f".{db.name}.*.open"):
            if old != link:
                old.unlink(missing_ok=True)
        return link
    except OSError:  # no hard links on this file system: a rebuilt store is then seen after a restart
        return db


# A pack edited into breaking the contract: its problems, by store path, while the last good store is shown.
_PACK_PROBLEMS: dict[str, PackInvalid] = {}


# Keyed on the store file's identity, so a store rebuilt by a commit (or by hand) is reopened on the next run.
@st.cache_resource(show_spinner="Preparing the data store…", max_entries=4)
def _store(pack: str, db: str, stamp: tuple[int, int, int]) -> Store:
    try:
        ensure_store(config.pack_dir(), config.db_path())
        _PACK_PROBLEMS.pop(db, None)
    except Exception as exc:  # noqa: BLE001
        if not config.db_path().is_file():  # nothing to fall back on: page_setup says what to fix
            raise
        # The build left the store as it was: keep showing it, and say why. Issue 19: a build that fails for any
        # other reason (a bug, a value the checks let through) must not take every page down either; its details
        # go to the log, not to viewers.
        if not isinstance(exc, PackInvalid):
            log.exception("Building the store from %s failed; the last good store is kept", config.pack_dir())
            exc = PackInvalid([Problem("the store build", f"failed unexpectedly ({type(exc).__name__}); the "
                                                          "server's log has the details")])
        _PACK_PROBLEMS[db] = exc
    return Store(_fresh_path(config.db_path()))


def store() -> Store:
    db = config.db_path()
    return _store(str(config.pack_dir()), str(db), _stamp(db))


# Results, store settings and built figures, shared by every session (see analytics/cache.py for why not
# st.cache_data). Keys carry the store's fingerprint, so a rebuilt store is never answered from an old one.
_RESULTS = SharedCache(max_entries=1024)
_META = SharedCache(max_entries=16)
_FIGURES = SharedCache(max_entries=512)
_SENTENCES = SharedCache(max_entries=4096)
_TABLES = SharedCache(max_entries=256)


def compute(function: Callable[..., Any], **kwargs: Any) -> Any:
    """Call an analytics function `function(store, **kwargs)` through the shared cache."""
    key = (function.__module__, function.__qualname__, meta()["pack_hash"], tuple(sorted(kwargs.items())))
    return _RESULTS.get(key, lambda: function(store(), **kwargs))


def meta() -> dict[str, str]:
    db = config.db_path()
    # Keyed on the file too: a rebuilt store brings a new pack_hash.
    return _META.get((str(db), _stamp(db)), lambda: store().meta())


# Streamlit draws captions at 60% opacity: 3.9:1 on white, under WCAG AA's 4.5:1 for text of their size.
BASE_CSS = """<style>[data-testid="stCaptionContainer"] {opacity: 1; color: #555555;}</style>"""


# --- Text from a URL, an upload or a pack is shown as text (issue 19) -------------------------------------------
# st.markdown, st.caption, alerts, headings, metric and widget labels and radio options all read Markdown: a name
# such as ![b](http://…) became an image that every viewer's browser fetched. Escaping the Markdown specials is not
# enough on its own: the Markdown renderer turns http://…, www.… and a@b.c in plain text into links even when
# escaped, and :name: into an emoji or icon, so a word joiner (invisible) is put after "http"/"www", before "@"
# and after such a ":", which stops that.
# Not ( and ): with [ and ] escaped they cannot make a link, and sentences read better without backslashes.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>#!|~$&:])")  # ":" starts Streamlit's :red[…] directives
_AUTOLINK = re.compile(r"(?i)(https?|www)(?=[:.])|(?=@)|(?<=:)(?=[\w/+-]+:)")  # the last: :smile:, :material/x:
_LEAD = re.compile(r"^\*\*([^*]+)\*\* ")
WORD_JOINER = "\u2060"


def plain(text: object, limit: int | None = None) -> str:
    """`text` made safe to put into anything Streamlit renders as Markdown: it then shows exactly as written
    (on one line), never as a link, image, HTML, formatting, colour or formula. `limit` shortens it (with …),
    for values echoed from the address."""
    flat = " ".join(str(text).split())
    if limit is not None and len(flat) > limit:
        flat = flat[:limit - 1] + "…"
    flat = _MARKDOWN_SPECIALS.sub(r"\\\1", _AUTOLINK.sub(lambda m: (m.group(1) or "") + WORD_JOINER, flat))
    # At the start of a line, "-", "+", "=", "1." or "1)" would begin a list or a heading.
    return re.sub(r"^([-+=])|^(\d+)([.)])", lambda m: "\\" + m.group(1) if m.group(1) else
                  f"{m.group(2)}\\{m.group(3)}", flat)


def sentence(text: str) -> str:
    """A sentence from analytics.describe (or panel, weighting), which embeds names from the pack and the ledger,
    made safe as `plain` does, keeping only a bold lead-in that describe writes itself ("**Asked too often:** …")."""
    lead = _LEAD.match(text)
    if lead:
        return f"**{plain(lead.group(1))}** {plain(text[lead.end():])}"
    return plain(text)


def page_setup(title: str, icon: str = "📊", show_title: bool = True) -> dict[str, str]:
    """Common page furniture: title, the synthetic-data banner, styles. Returns the pack's settings."""
    st.set_page_config(page_title=f"{title} · Reach & Need", page_icon=icon, layout="wide")
    st.html(BASE_CSS)
    if not viewer():  # issue 7: only when secrets say [auth] viewers_need_sign_in = true
        st.stop()
    try:
        info = meta()
    except PackInvalid as exc:
        _pack_problems(exc, "The dashboard cannot start")
        st.stop()
    if problem := _PACK_PROBLEMS.get(str(config.db_path())):
        _pack_problems(problem, "The area pack was changed and now breaks the data contract, so the figures "
                                "below are from the last version that loaded")
    if info.get("synthetic", "False").lower() == "true":
        st.warning(f"**Demonstration data.** {plain(info['name'])} is fictional: every figure on this page is "
                   "synthetic.", icon="ℹ️")
    if show_title:
        st.title(title)
    return info


def _pack_problems(exc: PackInvalid, headline: str) -> None:
    # The folder's name, not its path: viewers see this too, and the server's paths are none of theirs.
    st.error(f"**{headline}.** {len(exc.problems)} problem(s) in the area pack '{plain(config.pack_dir().name)}'; "
             "fix them (or run `python -m analytics.build` to check the pack) and reload this page.")
    with st.expander("What to fix"):
        st.markdown("\n".join(f"- {plain(problem)}" for problem in exc.problems[:50]))


# Presentation mode: no sidebar or toolbar, large type for a projector; local CSS only (works offline).
PRESENTATION_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"],
header[data-testid="stHeader"] {display: none !important;}
html, .stMarkdown p, .stMarkdown li {font-size: 1.35rem;}
[data-testid="stMetricValue"] {font-size: 3.2rem;}
.block-container {max-width: 100% !important; padding-top: 1rem;}
</style>"""

# Right arrow, Page Down or space → the "Next" button; left arrow or Page Up → "Back" (as presentation clickers
# send). Registered once per page, in the page itself (no external script).
PRESENTATION_KEYS = """<script>
if (!window.__reachKeys) {
  window.__reachKeys = true;
  document.addEventListener('keydown', (e) => {
    if (['INPUT', 'TEXTAREA', 'SELECT'].includes((e.target.tagName || '').toUpperCase())) return;
    const want = {ArrowRight: 'Next', PageDown: 'Next', ' ': 'Next', ArrowLeft: 'Back', PageUp: 'Back'}[e.key];
    if (!want) return;
    const button = [...document.querySelectorAll('button')].find(b => b.innerText.trim().startsWith(want));
    if (button) { e.preventDefault(); button.click(); }
  });
}
</script>"""


def presentation_mode() -> bool:
    """On with ?present=1 (or the toggle); applies the projector styles and key bindings when on."""
    wanted = st.query_params.get("present") == "1"
    on = st.sidebar.toggle("Presentation mode", value=wanted, help="Full screen story for launch events; "
                           "arrow keys or a clicker advance the slides. Also ?present=1 in the address.")
    if on:
        st.query_params["present"] = "1"
        st.html(PRESENTATION_CSS)
        st.html(PRESENTATION_KEYS, unsafe_allow_javascript=True)
    else:
        st.query_params.pop("present", None)
    return on


def slide_step(count: int, move: int = 0) -> int:
    """The current slide (kept per session), moved by `move`, clamped to the story."""
    step = min(max(st.session_state.get("slide", 0) + move, 0), count - 1)
    if move:
        st.session_state.slide = step
        st.session_state.slide_moved = time.monotonic()
    return step


def autoplay(render: Callable[[], None], count: int) -> None:
    """Render the slideshow; with ?autoplay=N (seconds, 5–600) it reruns alone and advances every N seconds,
    going back to the start after the last slide."""
    try:
        seconds = int(st.query_params.get("autoplay", "0"))
    except ValueError:
        seconds = 0
    if not 5 <= seconds <= 600:
        render()
        return

    @st.fragment(run_every=seconds)
    def timed() -> None:
        if time.monotonic() - st.session_state.get("slide_moved", time.monotonic()) >= seconds - 0.5:
            st.session_state.slide = (st.session_state.get("slide", 0) + 1) % count
        st.session_state.slide_moved = time.monotonic()
        render()
    timed()


def public_url() -> str:
    """The address to give an audience: $REACH_PUBLIC_URL (the venue's address for this server), else the
    address this browser used."""
    return config.public_url() or str(st.context.url or "").split("?")[0]


ECHO_LIMIT = 80  # characters of an address's value repeated in a notice (a value may be thousands long)


def query_choice(key: str, options: Sequence[Any], default: Any, label: str,
                 widget: Callable[..., Any] = st.selectbox, **widget_args: Any) -> Any:
    """A filter held in the URL: read ?key=…, fall back (with a notice) when invalid, write the choice back."""
    as_text = {str(o): o for o in options}
    wanted = st.query_params.get(key)
    if wanted is not None and wanted not in as_text:
        st.info(f"The address asked for {label.lower()} '{plain(wanted, ECHO_LIMIT)}', which is not available; "
                f"showing '{plain(default)}' instead.")
        wanted = None
    current = as_text[wanted] if wanted is not None else default
    start = {"value": current} if widget is st.select_slider else {"index": list(options).index(current)}
    choice = widget(label, list(options), key=f"filter_{key}", **start, **widget_args)
    if choice == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = str(choice)
    return choice


def table(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str, column_config: dict | None = None,
          key: tuple | None = None) -> None:
    """A table with its CSV download (text cells neutralised so a spreadsheet cannot run them).
    With `key` (every choice the table depends on besides its `name`), the table is made ready for the screen
    once per key and shared by every session, as `figure` is (converting it cost 1–4 ms per run), and `frame`
    may be a function that makes it."""
    make = frame if callable(frame) else lambda: frame
    if key is None:
        screen = screen_table(make())
    else:
        screen = _TABLES.get((meta()["pack_hash"], name, *key), lambda: screen_table(make()))
    st.dataframe(screen, hide_index=True, width="stretch", column_config=column_config)
    # The CSV is made only when the button is clicked: making it on every run cost more than the table.
    st.download_button("Download this table (CSV)", lambda: safe_csv(make()), file_name=f"{name}.csv",
                       mime="text/csv", key=f"download_{name}", icon=":material/download:", on_click="ignore")


def figure(key: tuple, build: Callable[[], go.Figure]) -> go.Figure:
    """A figure built once per `key` (the page's choices) and shared by every session: building a plotly
    figure costs 10–40 ms of the one core that runs scripts, sending a built one ~4 ms."""
    # Streamlit serialises the figure without changing it, so sharing one object is safe.
    return _FIGURES.get((meta()["pack_hash"], *key), lambda: figures.shared(build()))


def said(key: tuple, make: Callable[[], Any]) -> Any:
    """A sentence (or a few) about the page's results, made once per `key` and shared by every session, as
    `figure` is: describing a chart takes pandas work of 1–3 ms, on every run of every session. `key` names
    the sentence and carries every choice it depends on."""
    return _SENTENCES.get((meta()["pack_hash"], *key), make)


def chart(fig: go.Figure, description: str, data: pd.DataFrame | Callable[[], pd.DataFrame], name: str,
          slot: str | None = None, alt: str | None = None) -> None:
    """A chart, the sentence that describes it (also its alt text), and the numbers behind it one click away
    (`data`, or a function making them, called only once the table is opened).
    `name` names the download (it may carry the filters); `slot`, the chart's place on the page, stays the same
    when a filter changes (default: `name`), so an opened table stays open while the viewer changes filters.
    `alt` (default: `description`) is for a chart that does not follow a filter its sentence follows: the browser
    rebuilds a chart whenever its figure or alt text changes, so a fixed chart keeps a fixed alt."""
    slot = slot or name
    st.plotly_chart(fig, width="stretch", key=f"chart_{slot}", config=PLOTLY_CONFIG, alt=alt or description)
    st.caption(sentence(description))
    numbers = st.expander("The numbers behind this chart", key=f"numbers_{slot}", on_change="rerun")
    if numbers.open:  # the table is sent only once opened: most runs never show it, and it costs more than the chart
        with numbers:
            table(data, name)


STATIC_DIR = config.ROOT / "static"  # served by Streamlit at app/static/ (server.enableStaticServing)


def map_layer(level: str = "area") -> geo.MapLayer:
    """Boundaries for a map level, served as a static file named for the store's fingerprint."""
    return _map_layer(level, meta()["pack_hash"])


@st.cache_resource(show_spinner=False)
def _map_layer(level: str, pack_hash: str) -> geo.MapLayer:
    collection = geo.feature_collection(store(), level)
    name = geo.write_static(collection, STATIC_DIR, f"{pack_hash[:16]}-{level}")
    return geo.MapLayer(f"app/static/{name}", geo.map_view(collection))


def query_date(key: str, default: date, label: str, lowest: date, highest: date) -> date:
    """A date filter held in the URL as YYYY-MM-DD; a bad or out-of-range value falls back with a notice."""
    wanted = st.query_params.get(key)
    value = default
    if wanted is not None:
        try:
            value = date.fromisoformat(wanted)
            if not lowest <= value <= highest:
                raise ValueError(wanted)
        except ValueError:
            st.info(f"The address asked for {label.lower()} '{plain(wanted, ECHO_LIMIT)}', which is not available; "
                    f"showing {default.isoformat()} instead.")
            value = default
    choice = st.date_input(label, value=value, min_value=lowest, max_value=highest, key=f"filter_{key}",
                           format="YYYY-MM-DD")
    if choice == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = choice.isoformat()
    return choice


def engagement_filters(localities: list[str]) -> dict[str, str]:
    """Period, method, partner and locality, held in the URL; returns the filters the reach functions take."""
    from analytics import reach
    options = compute(reach.ledger_options)
    first, last = (date.fromisoformat(options[k][0]) for k in ("first_date", "last_date"))
    c1, c2, c3, c4, c5 = st.columns(5)
    with c1:
        start = query_date("from", first, "From", first, last)
    with c2:
        end = query_date("to", last, "To", first, last)
    with c3:
        method = query_choice("method", ["All"] + options.get("method", []), "All", "Method",
                              format_func=lambda v: "All methods" if v == "All" else v.replace("_", " "))
    with c4:
        partner = query_choice("partner", ["All"] + options.get("partner", []), "All", "Partner",
                               format_func=lambda v: "All partners" if v == "All" else v)
    with c5:
        locality = locality_choice(localities)
    if start > end:  # issue 19: a reversed period matched nothing (and crashed Engagement reach); read it forwards
        st.info(f"The period starts ({start.isoformat()}) after it ends ({end.isoformat()}); showing "
                f"{end.isoformat()} to {start.isoformat()} instead.")
        start, end = end, start
    chosen = {"date_from": start.isoformat(), "date_to": end.isoformat(), "method": method, "partner": partner,
              "locality": locality}
    if compute(reach.method_mix, **chosen).empty:
        st.info("No engagement activity matches these filters, so the figures below are empty. Choose a longer "
                "period, or all methods, partners or localities.")
    return chosen


def stop_if_no_engagement() -> None:
    """Reach pages have nothing to show before the first activity is recorded: say so, and how to start."""
    from analytics import home
    if compute(home.overview)["responses"] == 0:
        st.info("No engagement responses have been recorded for this partnership yet. Add activities and "
                "responses to the ledger (activities.csv and responses.csv in the area pack) and they will "
                "appear here.")
        st.stop()


def locality_choice(localities: list[str]) -> str:
    return query_choice("locality", ["All"] + localities, "All", "Locality",
                        format_func=lambda v: "Whole partnership" if v == "All" else v)


# --- Signing in (issue 7): the rules are in analytics/auth.py; these draw the forms. -------------------------

def _secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # no secrets file: nobody is an editor, and viewing needs no account
        return {}


def auth_settings() -> auth.Settings:
    return auth.settings(_secrets())


def editor() -> str | None:
    """The signed-in editor (e-mail address or username), or None once the page shows how to sign in — or, with
    no editor set up, how to set one up. Call it before any upload, undo or record-level view, and stop on None."""
    settings = auth_settings()
    if settings.oidc:
        return _provider_user(settings, editors_only=True)
    if not settings.accounts:
        st.info(auth.SETUP, icon="🔐")
        return None
    name = st.session_state.get("signed_in")
    if name in settings.accounts:
        _signed_in_as(name, st.session_state.pop)
        return name
    _password_form(settings.accounts, "Sign in to add data")
    return None


def viewer() -> bool:
    """True when this session may see the aggregates: always, unless [auth] viewers_need_sign_in = true."""
    settings = auth_settings()
    if not settings.viewers_need_sign_in:
        return True
    if settings.oidc:
        return _provider_user(settings, editors_only=False) is not None
    accounts = {**settings.viewer_accounts, **settings.accounts}
    if st.session_state.get("signed_in") in accounts:
        return True
    _password_form(accounts, "Sign in to see this dashboard")
    return False


def _provider_user(settings: auth.Settings, editors_only: bool) -> str | None:
    """Sign-in through the identity provider (st.login); editors must be on [editors] emails."""
    if not st.user.get("is_logged_in", False):
        if importlib.util.find_spec("authlib") is None:
            st.error("Signing in through the identity provider needs the Authlib package on the server: "
                     "python -m pip install Authlib==1.9.6")
            return None
        st.info("Sign in with your organisation's account to continue.")
        st.button("Sign in", on_click=st.login, key="provider_sign_in", type="primary")
        return None
    email = str(st.user.get("email") or "")
    if editors_only and not auth.is_editor_email(settings, email):
        st.warning(f"You are signed in as {plain(email)}, which is not on the editors' list ([editors] emails in "
                   "secrets.toml); ask the dashboard's administrator to add you.")
        st.button("Sign out", on_click=st.logout, key="provider_sign_out")
        return None
    _signed_in_as(email, lambda _: st.logout())
    return email


def _signed_in_as(name: str, sign_out: Callable[[str], Any]) -> None:
    st.sidebar.caption(f"Signed in as **{plain(name)}**")
    st.sidebar.button("Sign out", key="sign_out", on_click=sign_out, args=("signed_in",))


def client() -> str:
    """Where this session connects from, for the sign-in pause (issue 19: a pause per client, not per username for
    everyone). The connection's address; for a connection from this machine (a reverse proxy in front, as README
    advises), the address the proxy appended to X-Forwarded-For, or X-Real-IP; otherwise 'local'. A proxy that
    sends neither puts every visitor in one client, which pauses them together, as before; one that passes a
    browser's own X-Forwarded-For on unchanged lets the browser name its client (README: set it)."""
    address = st.context.ip_address
    if isinstance(address, str) and address:
        return address
    headers = st.context.headers
    forwarded = str(headers.get("X-Forwarded-For") or "").split(",")[-1].strip()
    return forwarded or str(headers.get("X-Real-IP") or "").strip() or "local"


def _password_form(accounts: dict[str, str], title: str) -> None:
    """Username and password, checked with bcrypt; five failures in a row pause sign-in for a minute."""
    with st.form("sign_in", clear_on_submit=True):
        st.subheader(title)
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        throttle = st.session_state.setdefault("sign_in_throttle", auth.Throttle())
        ok, message = auth.sign_in(accounts, username, password, throttle, now=time.monotonic(), client=client())
        if ok:
            st.session_state["signed_in"] = username.strip()
            st.rerun()
        st.error(plain(message))
