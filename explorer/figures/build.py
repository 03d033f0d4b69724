"""The one way every figure here becomes a ``go.Figure``: from plain trace and layout dicts,
without plotly's property-by-property validation, which is most of a figure's build time on
every rerun that draws it (the network graph: ~5.5 of ~7.5 ms).

The dicts written in this package are checked by the tests instead: every figure a test builds
is rebuilt with validation on and must come out the same (tests/conftest.py). What validation
would have changed is done here or avoided: the layout's ``template`` is the template itself,
not its name; an empty list in the layout (no shapes) is left out; and colour scales are given
as their colours, since plotly.js reads some names ("RdBu") the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

PLAIN = pio.templates["none"].to_plotly_json()  # no grid, no background: the house look


def figure(data: Sequence[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure of ``data`` traces and ``layout`` (plain dicts, plotly's names), on the plain
    template unless the layout names another."""
    kept = {k: v for k, v in layout.items() if not (isinstance(v, list) and not v)}
    layout = {"template": PLAIN, **kept}
    return go.Figure(data=list(data), layout=layout, _validate=False)
