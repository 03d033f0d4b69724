"""One neuron's chain rule, with the engine's own numbers, for the Explorer's inspector panel.

``inspect_neuron`` reads a ``StepState`` and returns a ``NeuronReport``: for the selected unit and
the shown sample (or the whole batch) the forward sum, the error or the backpropagated sum, the
gradients and the update, each as raw floats (taken from the trace, so they equal it exactly),
LaTeX strings for ``st.latex`` and table rows for ``st.dataframe``. A section whose phase has not
run yet says so instead of computing anything: the report never runs ahead of the Stepper.

Three parts: ``numbers`` reads each phase's numbers from the trace (tested against it),
``latex`` writes them out as sections, and ``inspect_neuron`` here puts one section per phase in
reading order, or says which phase brings it. What "the value of a unit" is, for a sample or the
batch, is ``explorer.engine.units``'s, which the network figure shares.

The batch convention, which the captions explain: every loss is a mean over the batch, so each
row of delta = dL/dz already carries a factor 1/B. The batch gradients are therefore SUMS over
the batch of per-sample contributions (dL/dw_ij = sum_b a_bi delta_bj, dL/db_j = sum_b delta_bj),
and a derivative shown for "the batch" is that sum; z and a shown for the batch are means.

Left out: rendering (no streamlit, no plotly here), and anything the engine does not trace
(dL/dx of the input, optimiser buffers: momentum and Adam steps are shown as the change they made).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from explorer.analysis.inspector.latex import (
    backward_section,
    batch_note,
    der_equation,
    equation,
    error_section,
    forward_section,
    gradient_section,
    input_sections,
    layer_name,
    num,
    pending,
    update_section,
)
from explorer.analysis.inspector.numbers import (
    backward_numbers,
    error_numbers,
    forward_numbers,
    gradient_numbers,
    input_numbers,
    update_numbers,
    weights_used,
)
from explorer.analysis.inspector.report import NeuronReport, Row, Section
from explorer.engine import NetworkSpec, Phase, StepState, TrainConfig

__all__ = [
    "NeuronReport",
    "Row",
    "Section",
    "der_equation",
    "equation",
    "inspect_neuron",
    "layer_name",
    "num",
    "weights_used",
]

N = TypeVar("N")


def _section(
    numbers: N | None, write: Callable[[N], Section], key: str, title: str, phase: Phase
) -> Section:
    """The section of ``numbers``, or, before its phase has run, one that names the phase."""
    return write(numbers) if numbers is not None else pending(key, title, phase)


def inspect_neuron(
    spec: NetworkSpec,
    state: StepState,
    layer: int,
    unit: int,
    *,
    sample: int | None = None,
    config: TrainConfig | None = None,
    top: int = 5,
) -> NeuronReport:
    """The chain rule at unit ``unit`` of ``layer`` (0-based; -1 = the input) for row ``sample``
    of the batch, or for the batch as a whole (``sample=None``), as far as ``state`` has got.

    ``top`` bounds the terms listed per sum; ``config`` (the step's optimizer settings) lets the
    update section write out the SGD rule with its numbers.
    """
    n_layers = len(spec.layers)
    if not -1 <= layer < n_layers:
        raise ValueError(f"Layer {layer} does not exist (use -1 for the input, 0..{n_layers - 1}).")
    if not 0 <= unit < spec.sizes[layer + 1]:
        raise ValueError(f"Unit {unit} does not exist in a layer of {spec.sizes[layer + 1]}.")
    if sample is not None and not 0 <= sample < len(state.x):
        raise ValueError(f"Sample {sample} is not in this batch of {len(state.x)}.")
    where = f"sample {sample}" if sample is not None else "batch"
    activation = "" if layer == -1 else f" ({spec.layers[layer].activation})"
    title = f"{layer_name(spec, layer)}{activation}, unit {unit} ({where})"
    note = "" if sample is not None else batch_note(spec, layer, len(state.x))
    if layer == -1:
        numbers = input_numbers(spec, state, unit, sample, top)
        sections = input_sections(unit, sample, numbers)
        return NeuronReport(layer, unit, sample, title, input=numbers, sections=sections, note=note)

    output = layer == n_layers - 1
    computed = state.layer_gradients(layer) is not None
    forward = forward_numbers(state, layer, unit, sample, top) if layer < len(state.z) else None
    error = error_numbers(spec, state, unit, sample) if output and state.err is not None else None
    backward = (
        backward_numbers(spec, state, layer, unit, sample, top) if computed and not output else None
    )
    gradient = gradient_numbers(spec, state, layer, unit, sample, top) if computed else None
    update = (
        update_numbers(state, layer, unit, gradient)
        if gradient is not None and state.prev_params is not None
        else None
    )
    backward_phase = Phase("backward", layer)
    sections = (
        _section(
            forward,
            lambda n: forward_section(spec, layer, unit, sample, n),
            "forward",
            "Forward",
            Phase("forward", layer),
        ),
        _section(
            error,
            lambda e: error_section(spec, unit, sample, e, state.a[layer]),
            "error",
            "Error at the output",
            Phase("error"),
        )
        if output
        else _section(
            backward,
            lambda n: backward_section(spec, layer, unit, sample, n),
            "backward",
            "Backward",
            backward_phase,
        ),
        _section(
            gradient,
            lambda n: gradient_section(layer, unit, sample, n),
            "gradient",
            "Gradients",
            backward_phase,
        ),
        _section(
            update,
            lambda n: update_section(layer, unit, n, config),
            "update",
            "Update",
            Phase("update"),
        ),
    )
    return NeuronReport(
        layer, unit, sample, title, None, forward, error, backward, gradient, update, sections, note
    )
