"""The NumPy engine against torch autograd in float64: forward, loss, every gradient, and ten
optimizer steps. The torch side here is written from torch.nn / torch.optim directly, not from
explorer.torch_backend, so it is an independent reference."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import (
    HIDDEN_ACTIVATIONS,
    NetworkSpec,
    Params,
    TrainConfig,
    backward,
    error,
    forward,
    init_opt_state,
    init_params,
    update,
)
from tests.conftest import make_data, net

torch = pytest.importorskip("torch", reason="torch is not installed (pip install '.[torch]')")
F = torch.nn.functional
TOL = 1e-10

TORCH_ACT = {
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "elu": F.elu,
    "gelu": lambda z: F.gelu(z, approximate="tanh"),
    "softplus": F.softplus,
    "silu": F.silu,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def torch_loss(spec: NetworkSpec, z: object, a: object, t: object) -> object:
    if spec.loss == "cross_entropy":
        return F.cross_entropy(z, t)
    if spec.loss == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(z, t)
    return F.mse_loss(a, t)


def torch_forward(spec: NetworkSpec, ws: list, bs: list, x: object) -> tuple[list, list]:
    zs, outs, a = [], [], x
    for layer, (w, b) in zip(spec.layers, zip(ws, bs, strict=True), strict=True):
        z = a @ w + b
        z.retain_grad()
        a = TORCH_ACT[layer.activation](z)
        a.retain_grad()
        zs.append(z)
        outs.append(a)
    return zs, outs


def _cases() -> list[tuple[tuple[int, ...], str, str, str]]:
    cases = [((4, 5, 3), h, "softmax", "cross_entropy") for h in HIDDEN_ACTIVATIONS]
    cases += [((3, 6, 4, 2), h, "sigmoid", "binary_cross_entropy") for h in HIDDEN_ACTIVATIONS]
    cases += [((3, 5, 2), "relu", out, "mse") for out in TORCH_ACT]
    return cases


@pytest.mark.parametrize(("sizes", "hidden", "output", "loss"), _cases())
def test_forward_loss_and_every_gradient(
    sizes: tuple[int, ...], hidden: str, output: str, loss: str
) -> None:
    spec = net(sizes, hidden, output, loss)
    rng = np.random.default_rng(len(hidden) + len(output))
    params = init_params(spec, rng, "xavier_normal", bias=0.05)
    x, t = make_data(spec, 7, rng)

    fwd = forward(spec, params, x)
    err = error(spec, fwd, t)
    grads = backward(spec, params, fwd, err)

    ws = [torch.tensor(w, requires_grad=True) for w in params.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in params.biases]
    zs, outs = torch_forward(spec, ws, bs, torch.tensor(x))
    ref = torch_loss(spec, zs[-1], outs[-1], torch.tensor(t))
    ref.backward()

    assert abs(err.loss - ref.item()) <= TOL
    for layer in range(len(spec.layers)):
        np.testing.assert_allclose(fwd.total_input[layer], zs[layer].detach(), rtol=0, atol=TOL)
        np.testing.assert_allclose(fwd.output[layer], outs[layer].detach(), rtol=0, atol=TOL)
        np.testing.assert_allclose(grads.input_der[layer], zs[layer].grad, rtol=0, atol=TOL)
        np.testing.assert_allclose(grads.weight_der[layer], ws[layer].grad, rtol=0, atol=TOL)
        np.testing.assert_allclose(grads.bias_der[layer], bs[layer].grad, rtol=0, atol=TOL)
        if layer < len(spec.layers) - 1 or spec.loss == "mse":
            # dL/da of the output layer is only formed by torch when a feeds the loss (mse)
            np.testing.assert_allclose(grads.output_der[layer], outs[layer].grad, rtol=0, atol=TOL)


def torch_optimizer(config: TrainConfig, ws: list, bs: list) -> object:
    groups = [{"params": ws, "weight_decay": config.l2}, {"params": bs, "weight_decay": 0.0}]
    if config.optimizer == "adam":
        return torch.optim.Adam(
            groups, lr=config.learning_rate, betas=(config.beta1, config.beta2), eps=config.eps
        )
    momentum = config.momentum if config.optimizer == "momentum" else 0.0
    return torch.optim.SGD(groups, lr=config.learning_rate, momentum=momentum)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize(("l1", "l2"), [(0.0, 0.0), (1e-3, 0.0), (0.0, 1e-2), (1e-3, 1e-2)])
def test_ten_update_steps(optimizer: str, l1: float, l2: float) -> None:
    spec = net((5, 8, 6, 3), "tanh", "softmax", "cross_entropy")
    config = TrainConfig(optimizer=optimizer, learning_rate=0.05, l1=l1, l2=l2, momentum=0.8)
    rng = np.random.default_rng(3)
    params = init_params(spec, rng, "he_normal", bias=0.01)
    batches = [make_data(spec, 6, rng) for _ in range(10)]

    ws = [torch.tensor(w, requires_grad=True) for w in params.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in params.biases]
    opt = torch_optimizer(config, ws, bs)
    state = init_opt_state(params, config)
    for x, t in batches:
        fwd = forward(spec, params, x)
        params, state = update(
            params, backward(spec, params, fwd, error(spec, fwd, t)), state, config
        )

        opt.zero_grad()
        zs, outs = torch_forward(spec, ws, bs, torch.tensor(x))
        torch_loss(spec, zs[-1], outs[-1], torch.tensor(t)).backward()
        with torch.no_grad():
            for w in ws:  # l1 as a gradient term, before the optimizer adds weight decay
                w.grad += l1 * torch.sign(w)
        opt.step()

    assert state.step == 10
    got = Params(
        tuple(w.detach().numpy().copy() for w in ws), tuple(b.detach().numpy().copy() for b in bs)
    )
    for mine, ref in zip(
        (*params.weights, *params.biases), (*got.weights, *got.biases), strict=True
    ):
        np.testing.assert_allclose(mine, ref, rtol=0, atol=TOL)
    assert not np.allclose(
        params.weights[0], init_params(spec, np.random.default_rng(3), "he_normal").weights[0]
    )
