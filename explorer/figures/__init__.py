"""Figures: pure functions from engine state to plotly figures. Never imports streamlit."""

from explorer.figures.boundary import boundary_figure, neuron_maps_figure
from explorer.figures.compare import (
    activation_figure,
    compare_boundaries_figure,
    compare_class_accuracy_figure,
    compare_gradients_figure,
    compare_histograms_figure,
    compare_metric_figure,
    compare_units_figure,
)
from explorer.figures.curves import curves_figure
from explorer.figures.digits import (
    class_accuracy_figure,
    confusion_figure,
    contribution_figure,
    misclassified_figure,
    probabilities_figure,
    weight_images_figure,
)
from explorer.figures.network import NODE_TRACE, network_figure, neuron_at
from explorer.figures.stats import histograms_figure

__all__ = [
    "NODE_TRACE",
    "activation_figure",
    "boundary_figure",
    "class_accuracy_figure",
    "compare_boundaries_figure",
    "compare_class_accuracy_figure",
    "compare_gradients_figure",
    "compare_histograms_figure",
    "compare_metric_figure",
    "compare_units_figure",
    "confusion_figure",
    "contribution_figure",
    "curves_figure",
    "histograms_figure",
    "misclassified_figure",
    "network_figure",
    "neuron_at",
    "neuron_maps_figure",
    "probabilities_figure",
    "weight_images_figure",
]
