"""The Explorer's network graph as it reaches the browser: a components-v2 element (HTML, CSS
and JS in ``graph/``) that keeps one plotly chart for the page's life and hands it each new
figure through ``Plotly.react``, and the Explorer's keyboard bindings, which live in the same
script.

Why not ``st.plotly_chart``: its element id hashes the figure, so every changed figure remounts
the chart and plots it from nothing; at 784-16-16-10 that remount and fresh plot were most of
a Next-phase click in the browser (bench/RESULTS.md). plotly.js itself is the python plotly
package's ``plotly.min.js``, served from this machine by a components-v1 declaration of its
folder (nothing is fetched from elsewhere); its version may differ from the one inside
Streamlit's own bundle.

Left out: the figure (``explorer.figures.network``) and what a pick does (the page's callback).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from streamlit.components.v1 import declare_component
from streamlit.components.v2 import component

# Declared for its folder only: the server then serves plotly.min.js at this component's URL.
_PLOTLY_JS = declare_component("plotly_js", path=str(Path(plotly.__file__).parent / "package_data"))
_ASSETS = Path(__file__).parent / "graph"
_graph = component(
    "backprop_explorer.network_graph",
    html=(_ASSETS / "graph.html").read_text(encoding="utf-8"),
    css=(_ASSETS / "graph.css").read_text(encoding="utf-8"),
    js=(_ASSETS / "graph.js").read_text(encoding="utf-8"),
    # plotly.js puts its styles (hover labels) in the document's head: no shadow root.
    isolate_styles=False,
)


def plotly_url() -> str:
    """Where this server serves plotly.min.js (under the app's base URL path, if any)."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{'/' + base if base else ''}/component/{_PLOTLY_JS.name}/plotly.min.js"


def picked(value: Any, n_units: tuple[int, ...]) -> tuple[int, int] | None:
    """A pick sent by the browser, [layer, unit], if it names a neuron of a network whose layers
    (input first) have ``n_units``; anything else is ignored (the browser can send anything)."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    if not all(isinstance(v, int | float) and float(v).is_integer() for v in value):
        return None
    layer, unit = int(value[0]), int(value[1])
    if -1 <= layer < len(n_units) - 1 and 0 <= unit < n_units[layer + 1]:
        return layer, unit
    return None


def network_chart(fig: go.Figure, *, key: str, on_pick: Callable[[], None]) -> None:
    """Draw ``fig`` in the kept chart; ``on_pick`` runs (before the rerun) when a neuron is
    clicked, with ``pick_of(key)`` holding it."""
    _graph(
        key=key,
        data={"figure": pio.to_json(fig, validate=False), "plotly": plotly_url()},
        height=int(fig.layout.height),
        on_pick_change=on_pick,
    )


def pick_of(key: str) -> Any:
    """The last pick the chart under ``key`` sent, as the browser sent it."""
    value = st.session_state.get(key)
    return value.get("pick") if isinstance(value, dict) else getattr(value, "pick", None)
