"""Figures: pure functions from engine state to plotly figures. Never imports streamlit."""

from explorer.figures.curves import curves_figure
from explorer.figures.network import NODE_TRACE, network_figure, neuron_at

__all__ = ["NODE_TRACE", "curves_figure", "network_figure", "neuron_at"]
