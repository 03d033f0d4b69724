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

Only the traces that changed travel: each trace goes by a digest of its JSON, and a trace the
browser got in the figure before (``keys.GRAPH_SENT`` remembers that figure's digests, per chart) is
sent as null beside its digest; the script takes it from the figure it drew last, the same
object, so ``Plotly.react`` sees it unchanged. Between two phases most traces are the same (the
wide 784-128x6-10 sent 1.6 MB a click, nearly all of it edges that had not changed). Where the
script lacks a digest (a message lost, a new tab on the same session) it sends the trigger
"resync" and the next run sends the whole figure. A new session sends the whole figure first.

``kept_chart`` draws another figure of a page the same way, without the keys: the Explorer's
loss curve, which st.plotly_chart re-plotted in the browser on every click.

In presenter mode the chart is fitted to the screen: the script sizes it to the window's height
below the chart's top (at least the figure's height, at most FIT_MAX_PX, again on a resize),
and the text Python draws in it (layer headers, class names, phase band, colour bar) is
PROJECTOR_TEXT times larger.

Left out: the figure (``explorer.figures.network``) and what a pick does (the page's callback).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import plotly.graph_objects as go
import streamlit as st
from plotly.utils import PlotlyJSONEncoder
from streamlit.components.v1 import declare_component
from streamlit.components.v2 import component

from explorer.figures.network import LABEL_PX, LABEL_TRACE, NODE_TRACE
from explorer.ui import keys
from explorer.ui.presenter import presenting

# Declared for its folder only: the server then serves plotly.min.js at this component's URL.
_PLOTLY_JS = declare_component("plotly_js", path=str(Path(plotly.__file__).parent / "package_data"))
_ASSETS = Path(__file__).parent / "graph"


def _kept_chart_component(name: str, html: str) -> Any:
    return component(
        f"backprop_explorer.{name}",
        html=html,
        css=(_ASSETS / "graph.css").read_text(encoding="utf-8"),
        js=(_ASSETS / "graph.js").read_text(encoding="utf-8"),
        # plotly.js puts its styles (hover labels) in the document's head: no shadow root.
        isolate_styles=False,
    )


_graph = _kept_chart_component("network_graph", (_ASSETS / "graph.html").read_text("utf-8"))
_kept = _kept_chart_component("kept_chart", '<div class="kept-chart" data-chart></div>')
PROJECTOR_TEXT = 1.5  # presenter mode: the graph's 11 px labels become 16 px
FIT_MAX_PX = 1000  # presenter mode: the tallest the chart grows on a large screen
FIT_BELOW_PX = 8  # presenter mode: room left under the chart, inside the window
# numpy dtype -> plotly.js typed-array name (plotly's own table, for the types sent here)
_TYPED = {
    "int8": "i1",
    "uint8": "u1",
    "int16": "i2",
    "uint16": "u2",
    "int32": "i4",
    "uint32": "u4",
    "float32": "f4",
    "float64": "f8",
}


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
    clicked, with ``pick_of(key)`` holding it. In presenter mode it fills the screen's height
    (never less than the figure's) and its text is larger. Sends only the traces the browser
    does not hold yet (see the module's notes)."""
    fit = None
    if presenting():
        enlarge_text(fig, PROJECTOR_TEXT)
        fit = {"min": int(fig.layout.height), "max": FIT_MAX_PX, "below": FIT_BELOW_PX}
    height = "content" if fit else int(fig.layout.height)
    _send(_graph, fig, key, height, fit=fit, binds_keys=True, on_pick=on_pick)


def kept_chart(
    fig: go.Figure,
    *,
    key: str,
    binds_keys: bool = False,
    on_pick: Callable[[], None] | None = None,
) -> None:
    """Another figure of the page in a kept chart, as the graph is (a figure unchanged since
    the last run costs the browser nothing); for a chart that a page redraws on every click
    (the Explorer's loss curve, which st.plotly_chart re-plotted on each Next phase).
    ``binds_keys``:
    it binds the Explorer's keys, on a page without the network graph (Convolution).
    ``on_pick`` runs when a trace with ``meta={"pick": [...]}`` is clicked, ``pick_of(key)``
    holding that list and the point's index ([y, x] in a heatmap)."""
    _send(_kept, fig, key, int(fig.layout.height or 450), binds_keys=binds_keys, on_pick=on_pick)


def _send(
    chart: Any,
    fig: go.Figure,
    key: str,
    height: int | str,
    *,
    fit: dict[str, int] | None = None,
    binds_keys: bool = False,
    on_pick: Callable[[], None] | None = None,
) -> None:
    """``fig`` to the kept ``chart`` under ``key``: the traces the browser lacks,
    ``binds_keys`` whether this chart binds the Explorer's keys, ``on_pick`` what a pick runs."""
    callbacks = {} if on_pick is None else {"on_pick_change": on_pick}
    sent: dict[str, frozenset[str]] = st.session_state.setdefault(keys.GRAPH_SENT, {})
    figure, ids = figure_payload(fig, sent.get(key, frozenset()))
    sent[key] = frozenset(ids)

    def resync() -> None:
        st.session_state.get(keys.GRAPH_SENT, {}).pop(key, None)

    chart(
        key=key,
        data={
            "figure": figure,
            "ids": ids,
            "chart": key,
            "keys": binds_keys,
            "plotly": plotly_url(),
            "fit": fit,
        },
        height=height,
        on_resync_change=resync,
        **callbacks,
    )


def figure_payload(fig: go.Figure, held: frozenset[str]) -> tuple[str, list[str]]:
    """``fig`` as JSON with every trace whose digest is in ``held`` (the browser has it) given
    as null, and the digests of all its traces, in order. Arrays go as plotly's typed-array
    specs, as ``pio.to_json`` writes them, without its per-array conversions (twice the time of
    the figure's build at 784-16-16-10, where the edges make ~50 arrays)."""
    parts, ids = [], []
    for trace in fig._data:  # the trace dicts themselves: no copy
        text = _json(trace)
        digest = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
        ids.append(digest)
        parts.append("null" if digest in held else text)
    layout = _json(fig.layout.to_plotly_json())
    return f'{{"data":[{",".join(parts)}],"layout":{layout}}}', ids


def _json(value: Any) -> str:
    return json.dumps(_typed(value), cls=PlotlyJSONEncoder, separators=(",", ":"))


def _typed(value: Any) -> Any:
    """``value`` with its numpy arrays as plotly.js typed-array specs (int64 narrowed, as
    plotly's ``to_typed_array_spec`` does; one it cannot type stays an array, for the
    encoder)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_typed(v) for v in value]
    if not isinstance(value, np.ndarray) or value.size == 0:
        return value
    if value.dtype == np.int64:
        for narrow in (np.int8, np.int16, np.int32):
            info = np.iinfo(narrow)
            if info.min <= value.min() and value.max() <= info.max:
                value = value.astype(narrow)
                break
    short = _TYPED.get(str(value.dtype))
    if short is None:
        return value
    spec = {"dtype": short, "bdata": base64.b64encode(value.tobytes()).decode()}
    if value.ndim > 1:
        spec["shape"] = str(value.shape)[1:-1]
    return spec


def enlarge_text(fig: go.Figure, factor: float) -> None:
    """The graph's labels, the hover labels and the colour bar's title and ticks ``factor``
    times larger."""
    fig.update_traces(textfont_size=round(LABEL_PX * factor), selector={"name": LABEL_TRACE})
    # the layer headers grow upwards from above the top neuron, the colour bar (drawn in the
    # bottom margin by the graph's script) downwards: room for both in the margins
    margin = fig.layout.margin
    fig.update_layout(
        hoverlabel_font_size=round(11 * factor),
        margin_t=(margin.t or 0) + 32,
        margin_b=(margin.b or 0) + 32,
    )
    fig.update_traces(
        marker_colorbar_title_font_size=round(12 * factor),
        marker_colorbar_tickfont_size=round(11 * factor),
        marker_colorbar_thickness=round(10 * factor),
        selector={"name": NODE_TRACE},
    )


def pick_of(key: str) -> Any:
    """The last pick the chart under ``key`` sent, as the browser sent it."""
    value = st.session_state.get(key)
    return value.get("pick") if isinstance(value, dict) else getattr(value, "pick", None)
