"""A small asyncio client that speaks Streamlit's websocket protocol (1.67) like one browser tab.

What a browser tab does, and so what this client does (worked out from streamlit/web/server/starlette/
starlette_websocket.py, runtime/app_session.py, runtime/scriptrunner/script_runner.py, commands/navigation.py,
runtime/forward_msg_cache.py and the frontend bundle's `sendRerunBackMsg`):

* Connect to ws://127.0.0.1:PORT/_stcore/stream with the subprotocol "streamlit". The subprotocol list also
  carries an XSRF token and an old session id, but the XSRF token only guards the sign-in cookie, so an
  anonymous tab sends just "streamlit". The server creates a session and runs nothing until asked.
* Ask for a run with BackMsg.rerun_script (a ClientState). The first run of a tab names its page by the URL
  path (`page_name` = "Needs_profile" for /Needs_profile, "" for /) with an empty `page_script_hash`; the
  server matches `page_name` against each page's url_pathname and, when none matches, sends `page_not_found`
  and runs the default page. Later runs send the current page's `page_script_hash` (from `new_session` /
  `navigation`) and an empty `page_name`. `query_string` is the address's query without "?" (the server
  updates it with `page_info_changed` when the script writes st.query_params), `context_info` carries the
  timezone, locale, URL and colour scheme, `widget_states` every active widget's value, and
  `cached_message_hashes` the hashes of the large messages the tab has cached (see below).
* The server answers with ForwardMsgs, one per websocket frame: `new_session` (run started; page hashes),
  `session_status_changed`, `navigation`, `page_config_changed`, `page_info_changed`, `delta`s (elements,
  each at `metadata.delta_path`), possibly `page_not_found` or a `session_event` (compile error), and last
  `script_finished` with a status: FINISHED_SUCCESSFULLY (also after st.stop()), FINISHED_WITH_COMPILE_ERROR,
  or FINISHED_EARLY_FOR_RERUN when the run was cut short by a rerun (st.rerun() or a newer request) - then a
  new run follows and the tab keeps waiting. An exception in the script arrives as an element
  (`delta.new_element.exception`) and the run still finishes "successfully".
* Messages of at least `global.minCachedMessageSize` that are new elements carry `metadata.cacheable`; the
  tab caches them by `hash`, lists the hashes in later rerun requests, and the server then sends a small
  `ref_hash` message instead of the element again. This client does the same (and resolves `ref_hash`).
* Nothing needs answering: the server sends no request that a tab must reply to (websocket pings are
  answered by the websockets library). A browser also sends `app_heartbeat` now and then; it is optional.
* Widgets: a selectbox element (`Selectbox` proto) lists its options as display strings (format_func
  applied) and its `default` index; `raw_value` with `set_value` when the server sets the value. In 1.67
  the frontend reports a selection as `WidgetState.string_value` = the chosen option's display string
  (SelectboxSerde.deserialize maps it back), not an index. Checkboxes/toggles are `bool_value`. A user key
  `k` gives the widget id "$$ID-<hash>-k".
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import connect

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ALLOWED_HOSTS = {"127.0.0.1"}  # load tests talk to a local server only
STATUS = {value: name for name, value in ForwardMsg.ScriptFinishedStatus.items()}


class ProtocolError(RuntimeError):
    pass


@dataclass
class RunResult:
    """One script run as a tab sees it: from sending rerun_script to the final script_finished."""
    kind: str                       # "open", "change" or "rerun"
    page: str                       # the URL path asked for
    seconds: float | None = None    # send → script_finished (None: no script_finished)
    first_message_s: float | None = None
    first_element_s: float | None = None
    messages: int = 0
    bytes: int = 0
    status: str | None = None       # FINISHED_SUCCESSFULLY, FINISHED_WITH_COMPILE_ERROR, ...
    errors: list[str] = field(default_factory=list)
    page_not_found: bool = False
    cached_refs: int = 0            # elements the server sent as ref_hash (already cached by the tab)
    elements: dict[tuple[int, ...], Element] = field(default_factory=dict, repr=False)
    detail: str = ""                # e.g. which widget was changed to what

    @property
    def ok(self) -> bool:
        return self.status == "FINISHED_SUCCESSFULLY" and not self.errors and not self.page_not_found

    def ordered(self) -> list[Element]:
        return [self.elements[path] for path in sorted(self.elements)]

    def metrics(self) -> dict[str, str]:
        """Metric label → shown value, in page order (later duplicates win)."""
        return {e.metric.label: e.metric.body for e in self.ordered() if e.WhichOneof("type") == "metric"}

    def texts(self) -> list[str]:
        """The visible text of the page's text-like elements, in order."""
        out = []
        for e in self.ordered():
            kind = e.WhichOneof("type")
            if kind == "metric":
                out.append(f"{e.metric.label}: {e.metric.body}")
            elif kind in ("markdown", "heading", "alert", "text", "caption", "code"):
                out.append(getattr(e, kind).body)
            elif kind == "exception":
                out.append(f"{e.exception.type}: {e.exception.message}")
        return out

    def exceptions(self) -> list[str]:
        return [f"{e.exception.type}: {e.exception.message}" for e in self.ordered()
                if e.WhichOneof("type") == "exception"]


def page_name_from_path(path: str) -> str:
    """The frontend's page name: the URL path under the base URL without slashes ("/" → "")."""
    return urlsplit(path).path.strip("/")


def widget_value(element: Element) -> WidgetState | None:
    """The value the frontend reports for a widget element it has just drawn (None: not tracked)."""
    kind = element.WhichOneof("type")
    if kind == "selectbox":
        box = element.selectbox
        state = WidgetState(id=box.id)
        if box.set_value:
            if not box.HasField("raw_value"):
                return None
            state.string_value = box.raw_value
        elif box.HasField("default") and 0 <= box.default < len(box.options):
            state.string_value = box.options[box.default]
        else:
            return None
        return state
    if kind == "checkbox":
        box = element.checkbox
        return WidgetState(id=box.id, bool_value=box.value if box.set_value else box.default)
    return None


class StreamlitClient:
    """One tab. `async with StreamlitClient(url) as tab: run = await tab.open("/Needs_profile")`."""

    def __init__(self, base_url: str, *, message_timeout: float = 60.0, run_timeout: float = 300.0,
                 timezone: str = "Europe/London", locale: str = "en-GB") -> None:
        parts = urlsplit(base_url)
        if parts.hostname not in ALLOWED_HOSTS:
            raise ValueError(f"refusing to connect to {parts.hostname!r}: load tests only talk to 127.0.0.1")
        self.base_url = f"http://{parts.hostname}:{parts.port}{parts.path.rstrip('/')}"
        self.ws_url = f"ws://{parts.hostname}:{parts.port}{parts.path.rstrip('/')}/_stcore/stream"
        self.message_timeout = message_timeout
        self.run_timeout = run_timeout
        self.timezone, self.locale = timezone, locale
        self.ws: Any = None
        self._reader: asyncio.Task | None = None
        self._inbox: asyncio.Queue = asyncio.Queue()
        self.connect_s: float | None = None  # websocket handshake time
        self.between_runs = 0               # messages that arrived outside a run (e.g. the trailing status)
        self.path = "/"
        self.query_string = ""
        self.page_script_hash = ""          # current page, from new_session / navigation
        self.main_script_hash = ""
        self.pages: dict[str, str] = {}     # url_pathname → page_script_hash (from `navigation`)
        self.cache: dict[str, bytes] = {}   # hash → serialised cacheable ForwardMsg (as the frontend keeps)
        self.widgets: dict[str, Element] = {}        # widget id → its element, from the latest run
        self.widget_states: dict[str, WidgetState] = {}  # the tab's widget values (frontend WidgetStateManager)
        self.last: RunResult | None = None
        self.runs = 0
        self.bytes = 0

    # -- connection --------------------------------------------------------------------------------------------
    async def connect(self) -> None:
        # No client pings (a browser sends none); the server's pings are answered by the library.
        started = time.perf_counter()
        self.ws = await asyncio.wait_for(
            connect(self.ws_url, subprotocols=["streamlit"], max_size=None, ping_interval=None,
                    open_timeout=self.message_timeout, close_timeout=2, max_queue=None),
            self.message_timeout)
        self.connect_s = time.perf_counter() - started
        self._inbox = asyncio.Queue()
        self._reader = asyncio.create_task(self._read(self.ws, self._inbox))

    @staticmethod
    async def _read(ws: Any, inbox: asyncio.Queue) -> None:
        """Read frames as they come, as a browser does (so the server never waits on this tab), stamped with
        their arrival time; a closed connection is queued as its exception."""
        try:
            async for data in ws:
                inbox.put_nowait((time.perf_counter(), data))
        except websockets.ConnectionClosed as exc:
            inbox.put_nowait((time.perf_counter(), exc))
            return
        except Exception as exc:  # noqa: BLE001 - handed to the run that waits
            inbox.put_nowait((time.perf_counter(), exc))
            return
        inbox.put_nowait((time.perf_counter(), websockets.ConnectionClosedOK(None, None)))

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self.ws = None
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._reader = None

    async def __aenter__(self) -> "StreamlitClient":
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- runs --------------------------------------------------------------------------------------------------
    async def open(self, path: str = "/", query: str = "") -> RunResult:
        """The first run of a tab opened at `path?query` (as typing the address)."""
        self.path = urlsplit(path).path or "/"
        self.query_string = query.lstrip("?")
        self.page_script_hash = ""
        self.widget_states.clear()
        self.widgets.clear()
        return await self._run("open", page_name=page_name_from_path(self.path), page_script_hash="",
                               widget_states=[])

    async def rerun(self) -> RunResult:
        """Rerun the current page with the tab's widget values (as pressing R)."""
        return await self._run("rerun", page_name="", page_script_hash=self.page_script_hash,
                               widget_states=self._active_states())

    def selectbox(self, user_key: str) -> Any | None:
        """The Selectbox proto of the latest run whose widget id ends with the user key (None if absent)."""
        for wid, element in self.widgets.items():
            if element.WhichOneof("type") == "selectbox" and wid.endswith(f"-{user_key}"):
                return element.selectbox
        return None

    def selected(self, user_key: str) -> str | None:
        box = self.selectbox(user_key)
        if box is None or box.id not in self.widget_states:
            return None
        return self.widget_states[box.id].string_value

    async def change_selectbox(self, user_key: str, option: str | None = None, step: int = 1) -> RunResult:
        """Choose `option` (a display string) in the selectbox keyed `user_key`, or the option `step` places
        after the current one, and time the run that follows, as a user picking from the list."""
        box = self.selectbox(user_key)
        if box is None:
            raise LookupError(f"no selectbox with key {user_key!r} on {self.path}")
        if box.disabled or box.form_id:
            raise LookupError(f"selectbox {user_key!r} is disabled or in a form: choosing does not rerun")
        options = list(box.options)
        if option is None:
            current = self.selected(user_key)
            index = options.index(current) if current in options else -1
            option = options[(index + step) % len(options)]
        elif option not in options:
            raise ValueError(f"{option!r} is not one of {options}")
        self.widget_states[box.id] = WidgetState(id=box.id, string_value=option)
        run = await self._run("change", page_name="", page_script_hash=self.page_script_hash,
                              widget_states=self._active_states())
        run.detail = f"{user_key}={option}"
        return run

    # -- protocol ----------------------------------------------------------------------------------------------
    def _active_states(self) -> list[WidgetState]:
        return [state for wid, state in self.widget_states.items() if wid in self.widgets]

    def _back_msg(self, page_name: str, page_script_hash: str, widget_states: list[WidgetState]) -> BackMsg:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = page_script_hash
        cs.page_name = page_name
        cs.widget_states.widgets.extend(widget_states)
        cs.cached_message_hashes.extend(self.cache)
        info = cs.context_info
        info.timezone, info.timezone_offset, info.locale = self.timezone, 0, self.locale
        info.url = self.base_url + self.path + (f"?{self.query_string}" if self.query_string else "")
        info.is_embedded = False
        info.color_scheme = "light"
        return msg

    async def _recv(self, deadline: float) -> tuple[float, bytes]:
        timeout = min(self.message_timeout, deadline - time.monotonic())
        if timeout <= 0:
            raise asyncio.TimeoutError
        arrived, data = await asyncio.wait_for(self._inbox.get(), timeout)
        if isinstance(data, BaseException):
            raise data
        if isinstance(data, str):
            raise ProtocolError("text frame from the server")
        return arrived, data

    async def _run(self, kind: str, page_name: str, page_script_hash: str,
                   widget_states: list[WidgetState]) -> RunResult:
        run = RunResult(kind=kind, page=self.path + (f"?{self.query_string}" if self.query_string else ""))
        self.last = run
        if self.ws is None:
            try:
                await self.connect()
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
                run.errors.append(f"connect failed: {exc!r}")
                self.runs += 1
                return run
        payload = self._back_msg(page_name, page_script_hash, widget_states).SerializeToString()
        while not self._inbox.empty():  # what came after the last run's script_finished (session status)
            _, data = self._inbox.get_nowait()
            if isinstance(data, BaseException):
                self._inbox.put_nowait((time.perf_counter(), data))
                break
            self.between_runs += 1
        started = time.perf_counter()
        deadline = time.monotonic() + self.run_timeout
        try:
            await self.ws.send(payload)
            while True:
                arrived, data = await self._recv(deadline)
                now = arrived - started
                run.messages += 1
                run.bytes += len(data)
                self.bytes += len(data)
                if run.first_message_s is None:
                    run.first_message_s = now
                msg = ForwardMsg()
                msg.ParseFromString(data)
                if self._handle(msg, run, data) and run.first_element_s is None:
                    run.first_element_s = now
                if msg.WhichOneof("type") == "script_finished":
                    status = STATUS.get(msg.script_finished, str(msg.script_finished))
                    if status == "FINISHED_EARLY_FOR_RERUN":
                        continue  # st.rerun() or a newer request: another run follows on this session
                    run.status = status
                    run.seconds = now
                    if status != "FINISHED_SUCCESSFULLY":
                        run.errors.append(f"script finished: {status}")
                    break
        except asyncio.TimeoutError:
            run.errors.append(f"timeout after {time.perf_counter() - started:.1f} s "
                              f"({run.messages} messages)")
            await self.close()  # the tab gives up; a late script_finished must not end a later run
        except websockets.ConnectionClosed as exc:
            run.errors.append(f"disconnected: {exc}")
            await self.close()
        except (OSError, ProtocolError) as exc:
            run.errors.append(f"connection error: {exc}")
            await self.close()
        run.errors.extend(run.exceptions())
        if run.page_not_found:
            run.errors.append(f"page not found: {page_name!r}")
        self.runs += 1
        return run

    def _handle(self, msg: ForwardMsg, run: RunResult, data: bytes) -> bool:
        """Apply one ForwardMsg to the tab's state; True when it drew an element."""
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                run.errors.append(f"cache miss for ref_hash {msg.ref_hash}")
                return False
            run.cached_refs += 1
            original = ForwardMsg()
            original.ParseFromString(cached)
            original.metadata.CopyFrom(msg.metadata)  # the reference carries where the element goes
            msg, kind = original, original.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self.cache.setdefault(msg.hash, data)
        if kind == "new_session":
            # A run started: the frontend clears the elements it will redraw.
            run.elements.clear()
            self.widgets.clear()
            if msg.new_session.page_script_hash:
                self.page_script_hash = msg.new_session.page_script_hash
            self.main_script_hash = msg.new_session.main_script_hash or self.main_script_hash
            for page in msg.new_session.app_pages:
                self.pages[page.url_pathname] = page.page_script_hash
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            if msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "page_not_found":
            run.page_not_found = True
        elif kind == "session_event":
            event = msg.session_event
            if event.WhichOneof("type") == "script_compilation_exception":
                exc = event.script_compilation_exception
                run.errors.append(f"compile error: {exc.type}: {exc.message}")
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            run.elements[tuple(msg.metadata.delta_path)] = element
            wid = getattr(getattr(element, element.WhichOneof("type") or "", None), "id", "")
            if isinstance(wid, str) and wid:
                self.widgets[wid] = element
                value = widget_value(element)
                if value is not None and (wid not in self.widget_states or
                                          getattr(getattr(element, element.WhichOneof("type")), "set_value", False)):
                    self.widget_states[wid] = value
            return True
        return False


async def open_page(base_url: str, path: str = "/", query: str = "", **kwargs: Any) -> RunResult:
    """Open one page in a fresh tab and close it."""
    async with StreamlitClient(base_url, **kwargs) as tab:
        return await tab.open(path, query)
