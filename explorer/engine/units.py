"""What a unit shows: its total input z, activation a, dL/da or dL/dz, for every sample of the
current batch, or None before the Stepper has computed it; and the one value per unit the graph
and the inspector show for a sample or for the batch.
"""

from __future__ import annotations

from explorer.engine.spec import NetworkSpec
from explorer.engine.stepper import StepState
from explorer.engine.types import Array

QUANTITIES = ("z", "a", "output_der", "input_der")
"""What a unit can be coloured or inspected by: total input, activation, dL/da, dL/dz."""

DERIVATIVES = ("output_der", "input_der")


def unit_values(spec: NetworkSpec, state: StepState, layer: int, quantity: str) -> Array | None:
    """``quantity`` for every sample and unit of ``layer`` (B, n), or None before it is computed.

    Layer -1 is the input: its value x stands for both z and a; the engine computes no dL/dx.
    The output layer's derivatives are known from the error phase on.
    """
    if quantity not in QUANTITIES:
        raise ValueError(f"Unknown quantity {quantity!r}; choose one of {', '.join(QUANTITIES)}.")
    n_layers = len(spec.layers)
    if layer == -1:
        return state.x if quantity in ("z", "a") else None
    if quantity == "z":
        return state.z[layer] if layer < len(state.z) else None
    if quantity == "a":
        return state.a[layer] if layer < len(state.a) else None
    grads = state.layer_gradients(layer)
    if grads is not None:
        return grads.output_der if quantity == "output_der" else grads.input_der
    if layer == n_layers - 1 and state.err is not None:
        return state.err.output_der if quantity == "output_der" else state.err.input_der
    return None


def shown(values: Array, quantity: str, sample: int | None) -> Array:
    """One value per unit (n,): row ``sample``, or for the batch the mean of z and a and the
    SUM of a derivative (its rows already carry the loss's 1/B, so the sum is the batch's)."""
    if sample is not None:
        return values[sample]
    return values.sum(axis=0) if quantity in DERIVATIVES else values.mean(axis=0)
