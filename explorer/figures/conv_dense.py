"""The CNN's dense part drawn as the Explorer's graph: ``network_figure`` on the head's
``NetworkSpec`` and a ``StepState`` made of the ``ConvStepState``'s dense records, so its
neurons colour by the phase, its edges carry w, w·a, dL/dw or Δw and its output units carry
the class names with the target and the prediction marked, as in the Explorer.

The flattened features (the last block's maps, torch's (filter, row, column) order) are the
graph's input, drawn as one image: the maps side by side in a grid of ``feature_grid``
(filter 1 top left, in reading order); at most IMAGE_INPUT_OVER features are neurons, in
torch's order. The image's pixels are the flat features reordered,
and the first dense layer's weights (and their gradients) are reordered with them, so every
number drawn is the engine's. Before the last block's forward phase the features are not
known: the image is blank (NaN). Left out: clicks on the graph (its neurons have no
inspector on this page) and the Explorer's view choices beyond the page's "Show".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go

from explorer.engine import Phase, StepState
from explorer.engine.conv import ConvNetSpec, ConvStepState
from explorer.engine.conv.phases import flat_features, head_params
from explorer.engine.spec import Params
from explorer.engine.traces import LayerGradients
from explorer.engine.types import Array
from explorer.figures.network import IMAGE_INPUT_OVER, PHASE, network_figure

# What the page's "Show" choice draws: (neurons, edges); "phase" follows the phase
SHOWN = {
    "phase": (PHASE, PHASE),
    "values": ("a", "weight"),
    "gradients": ("input_der", "weight_der"),
}


def feature_grid(spec: ConvNetSpec) -> tuple[int, int]:
    """(rows, columns) of maps in the image: the factor pair of the filter count closest to
    square, no taller than wide (4 filters: 2x2, 8: 2x4, 5: 1x5)."""
    filters = spec.block_shapes[-1].output[0]
    rows = max(r for r in range(1, math.isqrt(filters) + 1) if filters % r == 0)
    return rows, filters // rows


def feature_image_shape(spec: ConvNetSpec) -> tuple[int, int]:
    """The image's (rows, columns) of pixels."""
    _, h, w = spec.block_shapes[-1].output
    rows, cols = feature_grid(spec)
    return rows * h, cols * w


def feature_order(spec: ConvNetSpec) -> Array:
    """For each pixel of the image in reading order, the flat feature it shows; torch's order
    where the graph draws the features as neurons (at most IMAGE_INPUT_OVER of them)."""
    f, h, w = spec.block_shapes[-1].output
    if spec.flat_size <= IMAGE_INPUT_OVER:
        return np.arange(spec.flat_size)
    rows, cols = feature_grid(spec)
    flat = np.arange(f * h * w).reshape(rows, cols, h, w)  # filter = grid row * cols + column
    return flat.transpose(0, 2, 1, 3).reshape(-1)  # image row = grid row * h + y, ...


def _head(spec: ConvNetSpec, params: Params, order: Array) -> Params:
    """The dense layers' parameters, the first layer's rows in the image's order."""
    head = head_params(spec, params)
    return Params((head.weights[0][order], *head.weights[1:]), head.biases)


def dense_state(spec: ConvNetSpec, state: ConvStepState) -> StepState:
    """The dense part of ``state`` as the MLP's ``StepState`` of ``spec.head``, its input the
    flat features in ``feature_order`` (NaN before the last block has run)."""
    order = feature_order(spec)
    n_dense = len(spec.dense)
    if len(state.blocks) == spec.n_blocks:
        x = flat_features(state.blocks)[:, order]
    else:
        x = np.full((len(state.x), spec.flat_size), np.nan)
    back = tuple(g for g in state.back[:n_dense] if isinstance(g, LayerGradients))
    if len(back) == n_dense:  # the first dense layer's dL/dW, rows in the image's order
        back = (*back[:-1], replace(back[-1], weight_der=back[-1].weight_der[order]))
    prev = state.prev_params
    return StepState(
        params=_head(spec, state.params, order),
        opt_state=state.opt_state,
        epoch=state.epoch,
        step=state.step,
        position=state.position,
        batch_index=state.batch_index,
        x=x,
        target=state.target,
        done=state.done,
        z=state.z,
        a=state.a,
        err=state.err,
        back=back,
        prev_params=None if prev is None else _head(spec, prev, order),
    )


def dense_phase(spec: ConvNetSpec, phase: Phase | None) -> Phase | None:
    """``phase`` in the head's numbering; None for a block's phase (none of the head's)."""
    if phase is None or phase.layer is None:
        return phase
    if phase.layer < spec.n_blocks:
        return None
    return Phase(phase.kind, phase.layer - spec.n_blocks)


def dense_figure(
    spec: ConvNetSpec,
    state: ConvStepState,
    *,
    phase: Phase | None,
    sample: int,
    class_names: Sequence[str],
    target: int,
    show: str = "phase",
) -> go.Figure:
    """The dense part after ``phase`` (the CNN's last phase run) for ``sample``, whose class is
    ``target``; ``show``: "phase", "values" or "gradients" (see SHOWN), as the blocks' charts.
    A block's backward phase comes after the whole head's: its graph then shows delta and
    dL/dw, with no layer highlighted."""
    nodes, edges = SHOWN[show]
    head_phase = dense_phase(spec, phase)
    if show == "phase" and phase is not None and phase.kind == "backward" and head_phase is None:
        nodes, edges = SHOWN["gradients"]
    return network_figure(
        spec.head,
        dense_state(spec, state),
        color_by=nodes,
        edge_by=edges,
        sample=sample,
        phase=head_phase,
        input_shape=feature_image_shape(spec),
        class_names=class_names,
        target=target,
    )
