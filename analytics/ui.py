"""The one analytics module that imports Streamlit: page setup, the cached store, cached results, URL filters.

Caching sits exactly here, at the boundary between pages and computation: results are cached per function,
arguments and store fingerprint, so every session shares them and a rebuilt store is never served stale.
"""
from __future__ import annotations

import html
import importlib.util
import inspect
import logging
import os
import re
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import auth, config, disclosure, figures, geo, precompute, styles
from analytics.build import ensure_store
from analytics.cache import SharedCache
from analytics.db import Store
from analytics.export import for_screen, readable_csv, screen_table
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
    """Call an analytics function `function(store, **kwargs)` through the shared cache. A function that can give
    exact counts (an `exact` parameter) gives them only to a signed-in editor who asked (issue 18); the flag is
    then part of the call, and so of its cache key."""
    if exact_view() and "exact" in inspect.signature(function).parameters:
        kwargs["exact"] = True
    key = (function.__module__, function.__qualname__, meta()["pack_hash"], tuple(sorted(kwargs.items())))
    return _RESULTS.get(key, lambda: _precomputed_or_computed(function, kwargs))


def _precomputed_or_computed(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """The result the build stored for exactly this call (issue 21: analytics/precompute.py), else computed."""
    found = precompute.lookup(store(), function, kwargs)
    return function(store(), **kwargs) if found is precompute.MISSING else found


def meta() -> dict[str, str]:
    db = config.db_path()
    # Keyed on the file too: a rebuilt store brings a new pack_hash.
    return _META.get((str(db), _stamp(db)), lambda: store().meta())


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
    st.html(styles.BASE_CSS)
    st.html(styles.MAP_SCRIPT, unsafe_allow_javascript=True)
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
    if info.get("synthetic", "False").lower() == "true" and _presenting():  # a marker, not a banner per slide
        st.html('<p class="demo-marker">Demonstration data: fictional figures</p>')
    elif info.get("synthetic", "False").lower() == "true":
        st.warning(f"**Demonstration data.** {plain(info['name'])} is fictional: every figure on this page is "
                   "synthetic.", icon="ℹ️")
    _exact_switch()
    if show_title:
        st.title(title)
    return info


def _pack_problems(exc: PackInvalid, headline: str) -> None:
    # The folder's name, not its path: viewers see this too, and the server's paths are none of theirs.
    st.error(f"**{headline}.** {len(exc.problems)} problem(s) in the area pack '{plain(config.pack_dir().name)}'; "
             "fix them (or run `python -m analytics.build` to check the pack) and reload this page.")
    with st.expander("What to fix"):
        st.markdown("\n".join(f"- {plain(problem)}" for problem in exc.problems[:50]))


def _presenting() -> bool:
    return st.session_state.get("presentation_toggle", st.query_params.get("present") == "1")


def presentation_mode() -> bool:
    """On with ?present=1 (or the toggle); applies the projector styles and key bindings when on."""
    wanted = st.query_params.get("present") == "1"
    on = st.sidebar.toggle("Presentation mode", value=wanted, help="Full screen story for launch events; "
                           "arrow keys or a clicker advance the slides. Also ?present=1 in the address.",
                           key="presentation_toggle")
    if on:
        st.query_params["present"] = "1"
        st.html(styles.PRESENTATION_CSS)
        st.html(styles.PRESENTATION_KEYS, unsafe_allow_javascript=True)
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
    wanted = st.query_params.get("autoplay")
    try:
        seconds = int(wanted or "0")
    except ValueError:
        seconds = 0
    if not 5 <= seconds <= 600:
        if wanted is not None:  # issue 20: a bad value did nothing, silently
            st.info(f"The address asked for autoplay '{plain(wanted, ECHO_LIMIT)}', which is not a number of "
                    "seconds from 5 to 600, so the slides advance by hand (Next, or the arrow keys).")
        render()
        return

    @st.fragment(run_every=seconds)
    def timed() -> None:
        if time.monotonic() - st.session_state.get("slide_moved", time.monotonic()) >= seconds - 0.5:
            st.session_state.slide = (st.session_state.get("slide", 0) + 1) % count
        st.session_state.slide_moved = time.monotonic()
        render()
    timed()


def is_local_address(url: str) -> bool:
    """True for an address only this computer can open (localhost, 127.x, ::1, 0.0.0.0)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1", "0.0.0.0", "") or host.startswith("127.") or host.endswith(".localhost")


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

    def ready() -> tuple[Any, dict]:  # labels and formats from the registry (issue 20), then neutralised
        shown, spec = for_screen(make(), _code_names())
        return screen_table(shown), spec
    screen, spec = ready() if key is None else _TABLES.get(_shared_key(name, *key), ready)
    st.dataframe(screen, hide_index=True, width="stretch", column_config={**_column_config(spec),
                                                                          **(column_config or {})})
    if exact_view():  # issue 18: exact counts say so in the file itself and in its name
        make, name = (lambda made=make: made().assign(protection=disclosure.UNPROTECTED)), f"UNPROTECTED-{name}"
    # The CSV is made only when the button is clicked: making it on every run cost more than the table.
    st.download_button("Download this table (CSV)", lambda: readable_csv(make(), _code_names()),
                       file_name=f"{name}.csv",
                       mime="text/csv", key=f"download_{name}", icon=":material/download:", on_click="ignore")


def _column_config(spec: dict[str, tuple[str, str, str | None]]) -> dict:
    """Labels and formats from the registry; the first column, when it names the row (a group, a place), stays
    pinned while the rest scroll, so a phone never shows numbers without what they are of (issue 20)."""
    kinds = {"number": st.column_config.NumberColumn, "checkbox": st.column_config.CheckboxColumn,
             "text": st.column_config.TextColumn}
    first = next(iter(spec), None)
    return {code: kinds[kind](label, **({"format": fmt} if fmt else {}),
                              **({"pinned": True} if code == first and kind == "text" else {}))
            for code, (kind, label, fmt) in spec.items()}


def _code_names() -> dict[str, dict[str, str]]:
    """Names for codes the pack defines (need indicators), besides the registry's own."""
    from analytics import needs
    return {"indicator": dict(compute(needs.indicators)[["indicator", "label"]].values)}


def figure(key: tuple, build: Callable[[], go.Figure]) -> go.Figure:
    """A figure built once per `key` (the page's choices) and shared by every session: building a plotly
    figure costs 10–40 ms of the one core that runs scripts, sending a built one ~4 ms."""
    # Streamlit serialises the figure without changing it, so sharing one object is safe.
    return _FIGURES.get(_shared_key(*key), lambda: figures.shared(build()))


def said(key: tuple, make: Callable[[], Any]) -> Any:
    """A sentence (or a few) about the page's results, made once per `key` and shared by every session, as
    `figure` is: describing a chart takes pandas work of 1–3 ms, on every run of every session. `key` names
    the sentence and carries every choice it depends on."""
    return _SENTENCES.get(_shared_key(*key), make)


def _shared_key(*key: Any) -> tuple:
    """A shared cache key for a page's figure, sentence or table: the store and the view (exact counts for an
    editor, or published ones) as well as the page's choices, so no viewer is ever shown an editor's exact view."""
    return (meta()["pack_hash"], exact_view(), *key)


def chart(fig: go.Figure, description: str, data: pd.DataFrame | Callable[[], pd.DataFrame], name: str,
          slot: str | None = None, alt: str | None = None,
          narrow: Callable[[], pd.DataFrame] | None = None) -> None:
    """A chart, the sentence that describes it (also its alt text), and the numbers behind it one click away
    (`data`, or a function making them, called only once the table is opened).
    `name` names the download (it may carry the filters); `slot`, the chart's place on the page, stays the same
    when a filter changes (default: `name`), so an opened table stays open while the viewer changes filters.
    `alt` (default: `description`) is for a chart that does not follow a filter its sentence follows: the browser
    rebuilds a chart whenever its figure or alt text changes, so a fixed chart keeps a fixed alt.
    `narrow`: a table shown instead of the chart on a phone (issue 20: a heatmap became unreadable slivers)."""
    slot = slot or name
    title = chart_title(fig)
    with st.container(key=f"wide_{slot}") if narrow else st.container():
        if title:  # as text that wraps; the figure's own title is hidden on screen (styles.BASE_CSS)
            st.html(f'<p class="chart-title">{html.escape(title)}</p>')
        st.plotly_chart(fig, width="stretch", key=f"chart_{slot}", config=PLOTLY_CONFIG, alt=alt or description)
    if narrow:
        with st.container(key=f"narrow_{slot}"):
            st.html(f'<p class="chart-title">{html.escape(title)}</p>')
            shown, spec = for_screen(narrow())
            st.dataframe(screen_table(shown), hide_index=True, width="stretch", column_config=_column_config(spec))
    st.caption(sentence(description))
    numbers = st.expander("The numbers behind this chart", key=f"numbers_{slot}", on_change="rerun")
    if numbers.open:  # the table is sent only once opened: most runs never show it, and it costs more than the chart
        with numbers:
            table(data, name)


def chart_title(fig: go.Figure) -> str:
    """The figure's title as plain text (figures.safe wrote &, < and > as entities for plotly)."""
    return html.unescape(str(fig.layout.title.text or ""))


STATIC_DIR = config.ROOT / "static"  # served by Streamlit at app/static/ (server.enableStaticServing)


def map_layer(level: str = "area", locality: str = "All") -> geo.MapLayer:
    """Boundaries for a map level, served as a static file named for the store's fingerprint, with the
    localities' outlines and names; framed on `locality` when one is chosen (issue 20)."""
    return _map_layer(level, locality, meta()["pack_hash"])


@st.cache_resource(show_spinner=False, max_entries=64)
def _map_layer(level: str, locality: str, pack_hash: str) -> geo.MapLayer:
    collection = geo.feature_collection(store(), level)
    name = geo.write_static(collection, STATIC_DIR, f"{pack_hash[:16]}-{level}")
    places = geo.feature_collection(store(), "locality")
    outlines = geo.write_static(places, STATIC_DIR, f"{pack_hash[:16]}-locality")
    chosen = [f for f in places["features"] if f["id"] == locality]
    view = geo.map_view({"features": chosen} if chosen else collection)
    return geo.MapLayer(f"app/static/{name}", view, f"app/static/{outlines}", geo.label_points(places))


def query_month(key: str, months: list[str], default: str, label: str) -> str:
    """A month ('YYYY-MM') held in the URL; viewers' periods are whole calendar months (issue 18: two periods a
    day apart gave the people who answered that day). A day in the address means its month; a bad or
    out-of-range value falls back with a notice."""
    wanted = st.query_params.get(key)
    value = default
    if wanted is not None:
        value = str(wanted)[:7]
        if value not in months:
            st.info(f"The address asked for {label.lower()} '{plain(wanted, ECHO_LIMIT)}', which is not available; "
                    f"showing {_month_name(default)} instead.")
            value = default
    choice = st.selectbox(label, months, index=months.index(value), key=f"filter_{key}", format_func=_month_name)
    if choice == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = choice
    return choice


def _month_name(month: str) -> str:
    return date.fromisoformat(f"{month}-01").strftime("%B %Y")


def engagement_filters(localities: list[str]) -> dict[str, str]:
    """Period, method, partner and locality, held in the URL; returns the filters the reach functions take."""
    from analytics import reach
    options = compute(reach.ledger_options)
    months = reach.months(options["first_date"][0], options["last_date"][0])
    c1, c2, c3, c4, c5 = st.columns(5)
    with c1:
        start = query_month("from", months, months[0], "From")
    with c2:
        end = query_month("to", months, months[-1], "To")
    with c3:
        method = query_choice("method", ["All"] + options.get("method", []), "All", "Method",
                              format_func=lambda v: "All methods" if v == "All" else v.replace("_", " "))
    with c4:
        partner = query_choice("partner", ["All"] + options.get("partner", []), "All", "Partner",
                               format_func=lambda v: "All partners" if v == "All" else v)
    with c5:
        locality = locality_choice(localities)
    if start > end:  # issue 19: a reversed period matched nothing (and crashed Engagement reach); read it forwards
        st.info(f"The period starts ({_month_name(start)}) after it ends ({_month_name(end)}); showing "
                f"{_month_name(end)} to {_month_name(start)} instead.")
        start, end = end, start
    chosen = reach.filters(date_from=f"{start}-01", date_to=f"{end}-01", method=method, partner=partner,
                           locality=locality)
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


def place_name(locality: str) -> str:
    return "Whole partnership" if locality == "All" else locality


def locality_choice(localities: list[str], key: str = "locality", default: str = "All",
                    label: str = "Locality") -> str:
    return query_choice(key, ["All"] + localities, default, label, format_func=place_name)


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


def signed_in_editor() -> str | None:
    """The signed-in editor, or None, without drawing a sign-in form: for pages that show editors a little more
    (issue 22: board-only stories, proposed themes) and everyone else the rest."""
    settings = auth_settings()
    if settings.oidc:
        email = str(st.user.get("email") or "") if st.user.get("is_logged_in", False) else ""
        return email if email and auth.is_editor_email(settings, email) else None
    name = st.session_state.get("signed_in")
    return name if name in settings.accounts else None


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


def exact_view() -> bool:
    """Whether this session sees exact counts: a signed-in editor who switched them on (issue 18)."""
    return bool(st.session_state.get("exact_view")) and signed_in_editor() is not None


def _exact_switch() -> None:
    """The editors' switch between published and exact counts, and the warning on every page while exact."""
    if signed_in_editor() is None:
        return
    st.sidebar.toggle("Exact counts (unprotected)", key="exact_view", help="For editors managing the ledger: the "
                      "true counts, without perturbation or withholding. Never publish, screenshot or present them.")
    if exact_view():
        st.error(f"**Exact counts — {disclosure.UNPROTECTED}.** Every figure on this page is the true count, "
                 "without the protection viewers get; downloads are marked UNPROTECTED. Switch off *Exact counts* "
                 "in the sidebar before sharing your screen.", icon="🔓")


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
        # Sessions live in the browser tab: a reload starts a new one (issue 20), so say so before, not after.
        st.caption("Signing in lasts while this tab stays open: reloading the page or closing the tab signs you out.")
    if submitted:
        throttle = st.session_state.setdefault("sign_in_throttle", auth.Throttle())
        ok, message = auth.sign_in(accounts, username, password, throttle, now=time.monotonic(), client=client())
        if ok:
            st.session_state["signed_in"] = username.strip()
            st.rerun()
        st.error(plain(message))
