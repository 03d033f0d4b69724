"""The engine's phases computed by torch autograd, returning the engine's own trace types.

Same signatures and field meanings as ``explorer.engine.phases`` (numpy in, numpy out), so
the UI can show torch-computed values beside the engine's and the tests can hold them equal:

- ``forward``: every layer's z and a;
- ``error``: the loss through torch's own loss (``model.loss_mean``: ``CrossEntropyLoss`` /
  ``BCEWithLogitsLoss`` on z, ``MSELoss`` on a); dL/dz of the output layer is z's gradient
  from autograd. dL/da is a's gradient: for mse a feeds the loss directly; the
  cross-entropies read z, so their dL/da is autograd of the same loss written in a (NLL of
  log a, ``binary_cross_entropy`` of a), which differs from the engine's clamped form only
  where a saturates to 0 or 1;
- ``backward``: the forward pass rebuilt with ``retain_grad`` on every z and a, then
  autograd from the output layer's dL/dz down; weight gradients come back in the engine's
  (fan_in, fan_out) layout.

Each phase raises the engine's ``NonFiniteError`` naming the layer where NaN or inf first
appears. Everything runs on ``device`` in the parameters' dtype. ``compare_with_engine`` puts
both backends' numbers for one batch side by side, for the UI. Left out: the Stepper's
one-layer-at-a-time variants (autograd runs a phase whole).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from explorer.engine import phases as engine
from explorer.engine.errors import FailedPhase, NonFiniteError
from explorer.engine.spec import NetworkSpec, Params
from explorer.engine.traces import ErrorTrace, ForwardTrace, Gradients
from explorer.engine.types import Array
from explorer.torch_backend.model import (
    ACTIVATIONS,
    DTYPES,
    MLP,
    build_model,
    loss_mean,
    takes_logits,
    to_numpy,
)

Tensor = torch.Tensor


def _model(spec: NetworkSpec, params: Params, device: str) -> MLP:
    return build_model(spec, params, dtype=DTYPES[str(params.dtype)], device=device)


def _frozen(tensor: Tensor) -> Array:
    # Traces are shared with the step history, as the engine's are: make them read-only.
    arr = to_numpy(tensor)
    arr.flags.writeable = False
    return arr


def _finite(phase: FailedPhase, layer: int | None, *tensors: Tensor) -> None:
    for t in tensors:
        if not bool(torch.isfinite(t).all()):
            raise NonFiniteError(phase, layer)


def forward(spec: NetworkSpec, params: Params, x: Array, *, device: str = "cpu") -> ForwardTrace:
    """Run x (B, n_in) through every layer, keeping every z and a (each (B, n_l))."""
    model = _model(spec, params, device)
    with torch.no_grad():
        zs, outs = model.layers(torch.tensor(x, dtype=DTYPES[str(params.dtype)], device=device))
    for layer, (z, a) in enumerate(zip(zs, outs, strict=True)):
        _finite("forward", layer, z, a)
    return ForwardTrace(x, tuple(_frozen(z) for z in zs), tuple(_frozen(a) for a in outs))


def _target(spec: NetworkSpec, target: Array, like: Tensor) -> Tensor:
    if spec.loss == "cross_entropy":
        return torch.tensor(target, dtype=torch.long, device=like.device)
    return torch.tensor(target, dtype=like.dtype, device=like.device)


def _loss_of_a(spec: NetworkSpec, a: Tensor, t: Tensor) -> Tensor:
    """The loss as a function of the output activation a (its mean, like the engine's)."""
    if spec.loss == "cross_entropy":
        return F.nll_loss(torch.log(a), t)
    if spec.loss == "binary_cross_entropy":
        return F.binary_cross_entropy(a, t)
    return F.mse_loss(a, t)


def error(
    spec: NetworkSpec, fwd: ForwardTrace, target: Array, *, device: str = "cpu"
) -> ErrorTrace:
    """The batch's loss and dL/da, dL/dz of the output layer (``target`` as ``encode_targets``
    makes it: class indices for cross-entropy, else (B, n_out))."""
    z = torch.tensor(fwd.total_input[-1], device=device, requires_grad=True)
    t = _target(spec, target, z)
    a = ACTIVATIONS[spec.layers[-1].activation](z)
    a.retain_grad()
    loss = loss_mean(spec, z if takes_logits(spec) else a, t)
    torch.autograd.backward(loss)
    assert z.grad is not None
    if spec.loss == "mse":
        assert a.grad is not None
        output_der = a.grad
    else:
        a_leaf = a.detach().requires_grad_(True)
        torch.autograd.backward(_loss_of_a(spec, a_leaf, t))
        assert a_leaf.grad is not None
        output_der = a_leaf.grad
    _finite("error", None, loss.detach(), z.grad)
    return ErrorTrace(float(loss.item()), target, _frozen(output_der), _frozen(z.grad))


def backward(
    spec: NetworkSpec, params: Params, fwd: ForwardTrace, err: ErrorTrace, *, device: str = "cpu"
) -> Gradients:
    """Every layer's dL/da, dL/dz, dL/dW (fan_in, fan_out) and dL/db, from the error down."""
    model = _model(spec, params, device)
    dtype = DTYPES[str(params.dtype)]
    zs, outs = model.layers(torch.tensor(fwd.input, dtype=dtype, device=device))
    for t in (*zs, *outs):
        t.retain_grad()
    # autograd from the output layer's delta, exactly where the engine's backward starts
    torch.autograd.backward(zs[-1], torch.tensor(err.input_der, dtype=dtype, device=device))
    n = len(spec.layers)
    records: list[tuple[Array, Array, Array, Array]] = []
    for layer in reversed(range(n)):
        w, b = model.linears[layer].weight, model.linears[layer].bias
        assert w.grad is not None and b.grad is not None
        if layer == n - 1:
            output_der, input_der = err.output_der, err.input_der
        else:
            a_grad, z_grad = outs[layer].grad, zs[layer].grad
            assert a_grad is not None and z_grad is not None
            _finite("backward", layer, z_grad)
            output_der, input_der = _frozen(a_grad), _frozen(z_grad)
        _finite("backward", layer, w.grad, b.grad)
        weight_der = _frozen(w.grad.T)
        records.append((output_der, input_der, weight_der, _frozen(b.grad)))
    records.reverse()
    return Gradients(
        tuple(r[0] for r in records),
        tuple(r[1] for r in records),
        tuple(r[2] for r in records),
        tuple(r[3] for r in records),
    )


def trace_step(
    spec: NetworkSpec, params: Params, x: Array, target: Array, *, device: str = "cpu"
) -> tuple[ForwardTrace, ErrorTrace, Gradients]:
    """Forward, error and backward of one batch, as the Stepper records them."""
    fwd = forward(spec, params, x, device=device)
    err = error(spec, fwd, target, device=device)
    return fwd, err, backward(spec, params, fwd, err, device=device)


def compare_with_engine(
    spec: NetworkSpec, params: Params, x: Array, target: Array
) -> list[dict[str, object]]:
    """One batch through the engine and through torch autograd, both in float64: per layer,
    the largest |torch - engine| of every quantity the Explorer shows (the loss's on the
    output layer's row)."""
    p, xs = params.astype(np.float64), np.asarray(x, dtype=np.float64)
    fwd = engine.forward(spec, p, xs)
    err = engine.error(spec, fwd, target)
    grads = engine.backward(spec, p, fwd, err)
    tfwd, terr, tgrads = trace_step(spec, p, xs, target)
    pairs = {
        "z": (fwd.total_input, tfwd.total_input),
        "a": (fwd.output, tfwd.output),
        "dL/da": (grads.output_der, tgrads.output_der),
        "dL/dz": (grads.input_der, tgrads.input_der),
        "dL/dW": (grads.weight_der, tgrads.weight_der),
        "dL/db": (grads.bias_der, tgrads.bias_der),
    }
    rows: list[dict[str, object]] = []
    for layer in range(len(spec.layers)):
        row: dict[str, object] = {"layer": layer + 1}
        for name, (mine, theirs) in pairs.items():
            row[name] = float(np.max(np.abs(mine[layer] - theirs[layer])))
        last = layer == len(spec.layers) - 1
        row["loss"] = abs(err.loss - terr.loss) if last else None
        rows.append(row)
    return rows
