"""The colours every figure shares, so a value reads the same on every page."""

from __future__ import annotations

from plotly.colors import get_colorscale

# Red negative, blue positive; made symmetric by cmin = -cmax. Given as its colours: plotly.js
# has its own "RdBu", the other way round.
COLORSCALE = get_colorscale("RdBu")
CLASS_PALETTE = ("#f59322", "#0877bd", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
"""One colour per class on the data plane: the Playground's orange and blue first."""
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
"""One colour per curve."""
