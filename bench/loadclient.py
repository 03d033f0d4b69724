"""A browser session without a browser: Streamlit's own protobuf messages over its websocket.

A ``Session`` does what the frontend does for one tab: it loads the page (for its cookies,
which a sticky load balancer may route on), opens ``/_stcore/stream``, asks for a script run
with ``BackMsg.rerun_script`` and reads ``ForwardMsg``s until ``script_finished``. Widgets are
driven by their keys: the element ids the server sends end in the widget's key, and a rerun
carries new widget states (a button's ``trigger_value``, a number's ``double_value``, a
selectbox's formatted option as ``string_value``). The server merges them into the widget
state it already holds, so a rerun only needs the widgets it changes.

A widget inside a fragment reruns only its fragment (``ClientState.fragment_id``), as in the
browser, and the page keeps what the rest of the script drew.

It is far lighter than a browser (no rendering, no JavaScript), which is what lets one process
on a small machine play dozens of users. What it leaves out: widgets other than buttons,
number inputs and selectboxes, cached-message hashes (every run comes in full, as to a fresh
tab), timed fragment reruns (play), and file uploads.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Sequence
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
_DONE = (
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
)


class SessionError(RuntimeError):
    """The app answered with something a session cannot go on from: an exception on the
    page, a compile error, a widget that is not there, a closed socket or a timeout."""


@dataclass(frozen=True)
class Widget:
    """A keyed widget as the last run drew it. ``options`` are a selectbox's formatted
    options, the strings its state is sent as; ``fragment_id`` the fragment it is in ("" for
    none): changing it reruns only that fragment, as the frontend does."""

    id: str
    kind: str
    label: str
    options: tuple[str, ...] = ()
    fragment_id: str = ""


@dataclass
class Drawn:
    """What the script outside any fragment, or one fragment, drew in its last run."""

    widgets: dict[str, Widget] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)
    charts: dict[str, str] = field(default_factory=dict)  # key -> plotly figure JSON
    exceptions: list[str] = field(default_factory=list)


@dataclass
class Page:
    """What the tab shows: keyed widgets, text, metrics, charts and exceptions, from the
    last run of the script and of each fragment ("" is the script outside fragments)."""

    parts: dict[str, Drawn] = field(default_factory=dict)

    def clear(self, fragment_ids: Sequence[str] = ()) -> None:
        """A run starts: of the whole script (no ids), or of these fragments only."""
        if not fragment_ids:
            self.parts.clear()
        for fragment_id in fragment_ids:
            self.parts.pop(fragment_id, None)

    def add(self, element: Any, fragment_id: str) -> None:
        """Record one ``Element`` proto from a ``new_element`` delta."""
        part = self.parts.setdefault(fragment_id, Drawn())
        kind = element.WhichOneof("type")
        body = getattr(element, kind)
        if kind == "markdown":
            part.texts.append(body.body)
        elif kind == "metric":
            part.metrics[body.label] = body.body
        elif kind == "exception":
            part.exceptions.append(f"{body.type}: {body.message}")
        key = widget_key(getattr(body, "id", ""))
        if key is None:
            return
        if kind == "plotly_chart":
            part.charts[key] = body.spec
        elif kind == "bidi_component" and body.component_name.endswith("network_graph"):
            part.charts[key] = json.loads(body.json)["figure"]
        options = tuple(body.options) if kind == "selectbox" else ()
        label = getattr(body, "label", "")
        part.widgets[key] = Widget(body.id, kind, label, options, fragment_id)

    @property
    def widgets(self) -> dict[str, Widget]:
        return {k: v for part in self.parts.values() for k, v in part.widgets.items()}

    @property
    def texts(self) -> list[str]:
        return [text for part in self.parts.values() for text in part.texts]

    @property
    def metrics(self) -> dict[str, str]:
        return {k: v for part in self.parts.values() for k, v in part.metrics.items()}

    @property
    def charts(self) -> dict[str, str]:
        return {k: v for part in self.parts.values() for k, v in part.charts.items()}

    @property
    def exceptions(self) -> list[str]:
        return [e for part in self.parts.values() for e in part.exceptions]


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
        """Set widgets by key in one rerun (a button: any value presses it): of their
        fragment when they all sit in one, else of the whole script. The seconds until the
        run finished."""
        states = [self._state(key, value) for key, value in values.items()]
        fragments = {self.page.widgets[key].fragment_id for key in values}
        return await self.rerun(states, fragments.pop() if len(fragments) == 1 else "")

    async def rerun(self, states: list[WidgetState], fragment_id: str = "") -> float:
        """Ask for a run with these widget states, of one fragment or (by default) of the
        whole script; wait for it to finish. Raises SessionError when the page shows an
        exception."""
        if self._ws is None:
            raise SessionError("the session is not open")
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = self._page_hash
        msg.rerun_script.fragment_id = fragment_id
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
            if kind == "new_session":  # sent as every run starts, naming a fragment's run
                self.page.clear(msg.metadata.run.fragment_ids)
                if msg.new_session.HasField("initialize"):
                    self.session_id = msg.new_session.initialize.session_id
            elif kind == "navigation":  # st.navigation names the page that runs
                self._page_hash = msg.navigation.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self.page.add(msg.delta.new_element, msg.delta.fragment_id)
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
