"""A browser session without a browser: Streamlit's own protobuf messages over its websocket.

A ``Session`` does what the frontend does for one tab: it loads the page (for its cookies,
which a sticky load balancer may route on), opens ``/_stcore/stream``, asks for a script run
with ``BackMsg.rerun_script`` and reads ``ForwardMsg``s until ``script_finished``. Widgets are
driven by their keys: the element ids the server sends end in the widget's key, and a rerun
carries new widget states (a button's ``trigger_value``, a number's ``double_value``, a
selectbox's formatted option as ``string_value``). The server merges them into the widget
state it already holds, so a rerun only needs the widgets it changes.

It is far lighter than a browser (no rendering, no JavaScript), which is what lets one process
on a small machine play dozens of users. What it leaves out: widgets other than buttons,
number inputs and selectboxes, cached-message hashes (every run comes in full, as to a fresh
tab), fragment reruns, and file uploads.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

STREAM_PATH = "/_stcore/stream"
ID_PREFIX = "$$ID-"
SETTABLE = ("button", "number_input", "selectbox")
_DONE = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR)


class SessionError(RuntimeError):
    """The app answered with something a session cannot go on from: an exception on the
    page, a compile error, a widget that is not there, a closed socket or a timeout."""


@dataclass(frozen=True)
class Widget:
    """A keyed widget as the last run drew it. ``options`` are a selectbox's formatted
    options, the strings its state is sent as."""

    id: str
    kind: str
    label: str
    options: tuple[str, ...] = ()


@dataclass
class Page:
    """What one script run drew: keyed widgets, text, metrics, charts and exceptions."""

    widgets: dict[str, Widget] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)
    charts: dict[str, str] = field(default_factory=dict)  # key -> plotly figure JSON
    exceptions: list[str] = field(default_factory=list)

    def add(self, element: Any) -> None:
        """Record one ``Element`` proto from a ``new_element`` delta."""
        kind = element.WhichOneof("type")
        body = getattr(element, kind)
        if kind == "markdown":
            self.texts.append(body.body)
        elif kind == "metric":
            self.metrics[body.label] = body.body
        elif kind == "exception":
            self.exceptions.append(f"{body.type}: {body.message}")
        key = widget_key(getattr(body, "id", ""))
        if key is None:
            return
        if kind == "plotly_chart":
            self.charts[key] = body.spec
        options = tuple(body.options) if kind == "selectbox" else ()
        self.widgets[key] = Widget(body.id, kind, getattr(body, "label", ""), options)


def widget_key(element_id: str) -> str | None:
    """The user key an element id ends in (``$$ID-<hash>-<key>``), or None without one."""
    if not element_id.startswith(ID_PREFIX):
        return None
    parts = element_id[len(ID_PREFIX) :].split("-", 1)
    return parts[1] if len(parts) == 2 and parts[1] != "None" else None


def _http_get(url: str, timeout: float) -> Message:
    """GET ``url`` without any proxy from the environment; the response headers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        response.read()
        headers: Message = response.headers
        return headers


@dataclass
class Session:
    """One user's tab. ``base_url`` is the app's address, e.g. ``http://127.0.0.1:8501``."""

    base_url: str
    timeout: float = 60.0
    page: Page = field(default_factory=Page)
    backend: str | None = None  # where a load balancer says it sent this tab, when it says
    session_id: str = ""
    bytes_received: int = 0
    _ws: ClientConnection | None = None
    _page_hash: str = ""
    _cookies: str = ""

    async def open(self) -> float:
        """Load the page, connect and run the script once; the seconds that took."""
        started = time.perf_counter()
        headers = await asyncio.to_thread(_http_get, self.base_url + "/", self.timeout)
        self.backend = headers.get("X-Backend")
        self._cookies = "; ".join(
            c.split(";", 1)[0] for c in headers.get_all("Set-Cookie", []) if "=" in c
        )
        await self._connect()
        await self.rerun([])
        return time.perf_counter() - started

    async def reconnect(self) -> None:
        """Drop the websocket and connect again, asking for the same session (as the
        frontend does after a network blip); then run the script once."""
        await self.close()
        await self._connect(resume=True)
        await self.rerun([])

    async def _connect(self, *, resume: bool = False) -> None:
        # Sec-WebSocket-Protocol carries: the protocol, an XSRF token (unused without an
        # Origin header) and the id of a session to resume.
        protocols = ["streamlit", "none", self.session_id] if resume else ["streamlit"]
        self._ws = await connect(
            "ws" + self.base_url.removeprefix("http") + STREAM_PATH,
            subprotocols=[Subprotocol(p) for p in protocols],
            additional_headers={"Cookie": self._cookies} if self._cookies else None,
            max_size=None,
            proxy=None,
            open_timeout=self.timeout,
        )

    async def close(self) -> None:
        """Close the websocket, as closing the tab does."""
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def click(self, key: str) -> float:
        """Press the button with ``key``; the seconds until its run finished."""
        return await self.set_widgets({key: True})

    async def set_widgets(self, values: dict[str, Any]) -> float:
        """Set widgets by key in one rerun (a button: any value presses it); the seconds
        until the run finished."""
        return await self.rerun([self._state(key, value) for key, value in values.items()])

    async def rerun(self, states: list[WidgetState]) -> float:
        """Ask for a run with these widget states; wait for it to finish. Raises
        SessionError when the page shows an exception."""
        if self._ws is None:
            raise SessionError("the session is not open")
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = self._page_hash
        msg.rerun_script.widget_states.widgets.extend(states)
        started = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        try:
            await asyncio.wait_for(self._read_run(), self.timeout)
        except TimeoutError:
            raise SessionError(f"no script_finished within {self.timeout:g} s") from None
        elapsed = time.perf_counter() - started
        if self.page.exceptions:
            raise SessionError("the page shows an exception: " + self.page.exceptions[0])
        return elapsed

    async def _read_run(self) -> None:
        assert self._ws is not None
        while True:
            raw = await self._ws.recv(decode=False)
            self.bytes_received += len(raw)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":  # sent as every run starts
                self.page = Page()
                if msg.new_session.HasField("initialize"):
                    self.session_id = msg.new_session.initialize.session_id
            elif kind == "navigation":  # st.navigation names the page that runs
                self._page_hash = msg.navigation.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self.page.add(msg.delta.new_element)
            elif kind == "script_finished" and msg.script_finished in _DONE:
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise SessionError("the app failed to compile")
                return

    def _state(self, key: str, value: Any) -> WidgetState:
        widget = self.page.widgets.get(key)
        if widget is None:
            raise SessionError(f"no widget with key {key!r} on the page")
        state = WidgetState(id=widget.id)
        if widget.kind == "button":
            state.trigger_value = True
        elif widget.kind == "number_input":
            state.double_value = float(value)
        elif widget.kind == "selectbox":
            if value not in widget.options:
                raise SessionError(f"{key} offers {widget.options}, not {value!r}")
            state.string_value = value
        else:
            raise SessionError(f"{key} is a {widget.kind}; only {', '.join(SETTABLE)} are set")
        return state
