"""The CNN engine against torch autograd in float64 (Conv2d's conv2d, MaxPool2d's max_pool2d,
Linear's matmul, CrossEntropyLoss's cross_entropy): forward values, the loss, every gradient,
and ten optimizer steps, over shapes hypothesis draws. The torch side is written from
torch.nn.functional directly, so it is an independent reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from explorer.engine import HIDDEN_ACTIVATIONS, LayerSpec, Params, SpecError, TrainConfig
from explorer.engine.conv import (
    ConvBlockSpec,
    ConvNetSpec,
    backward,
    conv_error,
    conv_update,
    forward,
    init_conv_params,
)
from explorer.engine.conv.kernels import maxpool2x2, maxpool2x2_der
from explorer.engine.optim import init_opt_state
from tests.test_torch_parity import TORCH_ACT, torch_optimizer

torch = pytest.importorskip("torch", reason="torch is not installed (pip install '.[torch]')")
F = torch.nn.functional
TOL = 1e-10
FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def conv_nets(draw: st.DrawFn) -> ConvNetSpec:
    """One or two blocks of every kind on a small image, then one or two dense layers."""
    blocks = tuple(
        ConvBlockSpec(
            filters=draw(st.integers(1, 4)),
            kernel=draw(st.sampled_from((3, 5))),
            padding=draw(st.sampled_from(("valid", "same"))),
            activation=draw(st.sampled_from(HIDDEN_ACTIVATIONS)),
            pool=draw(st.booleans()),
        )
        for _ in range(draw(st.integers(1, 2)))
    )
    hidden = draw(st.lists(st.integers(2, 5), max_size=1))
    dense = (
        *(LayerSpec(n, draw(st.sampled_from(HIDDEN_ACTIVATIONS))) for n in hidden),
        LayerSpec(draw(st.integers(2, 4)), "softmax"),
    )
    side = st.integers(5, 11)
    try:
        return ConvNetSpec((draw(side), draw(side)), blocks, dense)
    except SpecError:  # the blocks do not fit the image: draw again
        reject()


def _data(spec: ConvNetSpec, rng: np.random.Generator, batch: int) -> tuple[np.ndarray, ...]:
    h, w = spec.input_shape
    return rng.normal(size=(batch, h * w)), rng.integers(0, spec.n_classes, batch)


def _params(spec: ConvNetSpec, seed: int) -> Params:
    """Initial parameters with nonzero biases, so every bias path is exercised."""
    rng = np.random.default_rng(seed)
    p = init_conv_params(spec, rng, "xavier_normal")
    return Params(p.weights, tuple(rng.normal(0, 0.1, b.shape) for b in p.biases))


def _leaves(params: Params) -> tuple[list, list]:
    ws = [torch.tensor(w, requires_grad=True) for w in params.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in params.biases]
    return ws, bs


def torch_forward(spec: ConvNetSpec, ws: list, bs: list, x: np.ndarray) -> dict[str, list]:
    """Every intermediate torch computes, each with its gradient retained."""
    kept: dict[str, list] = {k: [] for k in ("z", "a", "pooled", "indices", "dz", "da")}

    def keep(name: str, t: object) -> object:
        t.retain_grad()  # type: ignore[attr-defined]
        kept[name].append(t)
        return t

    h = torch.tensor(x).reshape(len(x), 1, *spec.input_shape)
    for i, b in enumerate(spec.blocks):
        z = keep("z", F.conv2d(h, ws[i], bs[i], padding=b.pad))
        h = keep("a", TORCH_ACT[b.activation](z))
        if b.pool:
            pooled, indices = F.max_pool2d(h, 2, return_indices=True)
            h = keep("pooled", pooled)
            kept["indices"].append(indices)
    a = h.flatten(1)
    for j, layer in enumerate(spec.dense):
        z = keep("dz", a @ ws[spec.n_blocks + j] + bs[spec.n_blocks + j])
        a = keep("da", TORCH_ACT[layer.activation](z))
    return kept


def _flat_argmax(argmax: np.ndarray, width: int) -> np.ndarray:
    """Our winner's place 0..3 in its window as torch's index into the pre-pool plane."""
    y, x = np.indices(argmax.shape[2:])
    return (2 * y + argmax // 2) * width + 2 * x + argmax % 2


def close(mine: np.ndarray, ref: object) -> None:
    np.testing.assert_allclose(mine, ref.detach().numpy(), rtol=0, atol=TOL)  # type: ignore[attr-defined]


@FEW
@given(spec=conv_nets(), batch=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_forward_loss_and_every_gradient(spec: ConvNetSpec, batch: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    params = _params(spec, seed)
    x, t = _data(spec, rng, batch)

    fwd = forward(spec, params, x)
    err = conv_error(spec, fwd, t)
    grads = backward(spec, params, fwd, err)

    ws, bs = _leaves(params)
    ref = torch_forward(spec, ws, bs, x)
    loss = F.cross_entropy(ref["dz"][-1], torch.tensor(t))
    loss.backward()

    assert abs(err.loss - loss.item()) <= TOL
    pooled = iter(zip(ref["pooled"], ref["indices"], strict=True))
    for i, (rec, g) in enumerate(zip(fwd.blocks, grads.blocks, strict=True)):
        close(rec.z, ref["z"][i])
        close(rec.a, ref["a"][i])
        close(g.input_der, ref["z"][i].grad)
        close(g.output_der, ref["a"][i].grad)
        close(g.kernel_der, ws[i].grad)
        close(g.bias_der, bs[i].grad)
        if spec.blocks[i].pool:
            p, indices = next(pooled)
            assert rec.pooled is not None and rec.argmax is not None
            assert g.pooled_der is not None
            close(rec.pooled, p)
            close(g.pooled_der, p.grad)
            np.testing.assert_array_equal(_flat_argmax(rec.argmax, rec.a.shape[3]), indices)
        else:
            assert rec.pooled is None and rec.argmax is None and g.pooled_der is None
    nb = spec.n_blocks
    for j, g in enumerate(grads.dense):
        close(fwd.dense.total_input[j], ref["dz"][j])
        close(fwd.dense.output[j], ref["da"][j])
        close(g.input_der, ref["dz"][j].grad)
        close(g.weight_der, ws[nb + j].grad)
        close(g.bias_der, bs[nb + j].grad)
        if j < len(spec.dense) - 1:  # torch forms no dL/da for the softmax it never ran
            close(g.output_der, ref["da"][j].grad)


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(optimizer="sgd", learning_rate=0.05),
        TrainConfig(optimizer="sgd", learning_rate=0.05, l2=1e-2),
        TrainConfig(optimizer="momentum", learning_rate=0.05, momentum=0.8, l2=1e-2),
        TrainConfig(optimizer="adam", learning_rate=0.01, l2=1e-2),
    ],
    ids=["sgd", "sgd-l2", "momentum-l2", "adam-l2"],
)
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=conv_nets(), seed=st.integers(0, 2**16))
def test_ten_optimizer_steps(config: TrainConfig, spec: ConvNetSpec, seed: int) -> None:
    rng = np.random.default_rng(seed)
    params = _params(spec, seed)
    batches = [_data(spec, rng, 3) for _ in range(10)]

    ws, bs = _leaves(params)
    opt = torch_optimizer(config, ws, bs)
    state = init_opt_state(params, config)
    for x, t in batches:
        fwd = forward(spec, params, x)
        grads = backward(spec, params, fwd, conv_error(spec, fwd, t))
        params, state = conv_update(params, grads, state, config)

        opt.zero_grad()
        z_out = torch_forward(spec, ws, bs, x)["dz"][-1]
        F.cross_entropy(z_out, torch.tensor(t)).backward()
        opt.step()

    assert state.step == 10
    for mine, ref in zip((*params.weights, *params.biases), (*ws, *bs), strict=True):
        close(mine, ref)
    assert not np.allclose(params.weights[0], _params(spec, seed).weights[0])


def test_pool_ties_go_where_torch_sends_them() -> None:
    """A ReLU leaves whole windows at 0: the winner (and so the gradient) is torch's."""
    a = np.random.default_rng(0).integers(0, 2, size=(3, 2, 7, 6)).astype(np.float64)
    at = torch.tensor(a, requires_grad=True)
    p, indices = F.max_pool2d(at, 2, return_indices=True)
    up = torch.tensor(np.random.default_rng(1).normal(size=p.shape))
    (p * up).sum().backward()

    pooled, argmax = maxpool2x2(a)
    close(pooled, p)
    np.testing.assert_array_equal(_flat_argmax(argmax, a.shape[3]), indices)
    close(maxpool2x2_der(up.numpy(), argmax, a), at.grad)
