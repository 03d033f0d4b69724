"""Activation functions, each with its derivative right beside it.

Every activation is one small object with ``output(z)`` and ``der(z)`` (as in the Playground's
``nn.ts``); ``input_der`` turns dL/da into dL/dz. The elementwise ones do that with ``der``;
softmax couples the units of a layer, so it overrides ``input_der`` with the Jacobian-vector
product instead. ``output_into`` and ``input_der_in_place`` do the same into given arrays, for
the fast path: ReLU, tanh and identity have in-place kernels for them, the others copy their
result in. All are stable for |z| up to 1e4 (no overflow warnings), and all follow PyTorch's
definitions (GELU is the tanh approximation, ``approximate="tanh"``).

Left out: parametrised activations with learnable parameters (PReLU) and exact-erf GELU.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from explorer.engine.types import Array

LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU default negative_slope
_GELU_C = math.sqrt(2.0 / math.pi)  # a Python float keeps float32 arrays float32
_SOFTPLUS_THRESHOLD = 20.0  # torch.nn.Softplus default threshold


@dataclass(frozen=True)
class Activation:
    """f and f' for one activation. For the UI, LaTeX: ``formula`` is f(z)'s right-hand side,
    ``der_formula`` f'(z)'s, and ``der_where`` the symbols a long one uses, as (symbol,
    definition) rows shown under it (GELU's t and u')."""

    name: str
    output: Callable[[Array], Array]
    der: Callable[[Array], Array]
    formula: str
    der_formula: str
    elementwise: bool = True
    der_where: tuple[tuple[str, str], ...] = ()
    # in-place kernels: f(z) into a; dL/da into dL/dz where it lies (None: through output/input_der)
    output_kernel: Callable[[Array, Array], object] | None = None
    chain_kernel: Callable[[Array, Array, Array], None] | None = None

    def input_der(self, z: Array, a: Array, output_der: Array) -> Array:
        """dL/dz from dL/da: the chain rule through f, per unit (delta = dL/da * f'(z))."""
        if self.elementwise:
            return output_der * self.der(z)
        # softmax: dL/dz_i = a_i (g_i - sum_k g_k a_k), the Jacobian-vector product.
        return a * (output_der - np.sum(output_der * a, axis=-1, keepdims=True))

    def output_into(self, z: Array, a: Array) -> None:
        """f(z) written into ``a``."""
        if self.output_kernel is None:
            a[...] = self.output(z)
        else:
            self.output_kernel(z, a)

    def input_der_in_place(self, z: Array, a: Array, output_der: Array) -> None:
        """``output_der`` (dL/da) turned into dL/dz where it lies."""
        if self.chain_kernel is None:
            output_der[...] = self.input_der(z, a, output_der)
        else:
            self.chain_kernel(z, a, output_der)


def sigmoid(z: Array) -> Array:
    # exp of a non-positive number never overflows; pick the form per sign.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_der(z: Array) -> Array:
    s = sigmoid(z)
    return s * (1.0 - s)


def _tanh_der(z: Array) -> Array:
    return 1.0 - np.tanh(z) ** 2


def _relu(z: Array) -> Array:
    return np.maximum(z, 0.0)


def _relu_der(z: Array) -> Array:
    # torch takes f'(0) = 0 for relu.
    return (z > 0).astype(z.dtype)


def _relu_into(z: Array, a: Array) -> None:
    np.maximum(z, 0, out=a)


def _relu_chain(z: Array, a: Array, output_der: Array) -> None:
    output_der *= z > 0


def _tanh_into(z: Array, a: Array) -> None:
    np.tanh(z, out=a)


def _tanh_chain(z: Array, a: Array, output_der: Array) -> None:
    output_der *= 1 - a * a


def _leaky(z: Array) -> Array:
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def _leaky_der(z: Array) -> Array:
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)


def _elu(z: Array) -> Array:
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))


def _elu_der(z: Array) -> Array:
    return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0))).astype(z.dtype)


def _gelu_inner(z: Array) -> Array:
    return _GELU_C * (z + 0.044715 * z**3)


def _gelu(z: Array) -> Array:
    # Clip before cubing: beyond |z| = 50 tanh is exactly +-1 and z**3 would overflow float32.
    zc = np.clip(z, -50.0, 50.0)
    return 0.5 * z * (1.0 + np.tanh(_gelu_inner(zc)))


def _gelu_der(z: Array) -> Array:
    zc = np.clip(z, -50.0, 50.0)
    t = np.tanh(_gelu_inner(zc))
    return 0.5 * (1.0 + t) + 0.5 * zc * (1.0 - t**2) * _GELU_C * (1.0 + 3 * 0.044715 * zc**2)


def _softplus(z: Array) -> Array:
    # torch's definition: log(1 + e^z), and exactly z above its threshold of 20.
    return np.where(z > _SOFTPLUS_THRESHOLD, z, np.log1p(np.exp(np.minimum(z, 20.0))))


def _softplus_der(z: Array) -> Array:
    return np.where(z > _SOFTPLUS_THRESHOLD, 1.0, sigmoid(z)).astype(z.dtype)


def _silu(z: Array) -> Array:
    return z * sigmoid(z)


def _silu_der(z: Array) -> Array:
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def _softmax(z: Array) -> Array:
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _softmax_der(z: Array) -> Array:
    # The diagonal of the Jacobian, da_i/dz_i; input_der uses the full product.
    s = _softmax(z)
    return s * (1.0 - s)


def _identity(z: Array) -> Array:
    return z


def _one(z: Array) -> Array:
    return np.ones_like(z)


def _identity_into(z: Array, a: Array) -> None:
    np.copyto(a, z)


def _identity_chain(z: Array, a: Array, output_der: Array) -> None:
    """dL/dz = dL/da: nothing to do."""


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "identity",
            _identity,
            _one,
            "z",
            "1",
            output_kernel=_identity_into,
            chain_kernel=_identity_chain,
        ),
        Activation(
            "sigmoid",
            sigmoid,
            _sigmoid_der,
            r"\sigma(z) = \frac{1}{1 + e^{-z}}",
            r"\sigma'(z) = \sigma(z)\,(1 - \sigma(z))",
        ),
        Activation(
            "tanh",
            np.tanh,
            _tanh_der,
            r"\tanh(z)",
            r"1 - \tanh^2(z)",
            output_kernel=_tanh_into,
            chain_kernel=_tanh_chain,
        ),
        Activation(
            "relu",
            _relu,
            _relu_der,
            r"\max(0, z)",
            r"\begin{cases}1 & z > 0\\ 0 & z \le 0\end{cases}",
            output_kernel=_relu_into,
            chain_kernel=_relu_chain,
        ),
        Activation(
            "leaky_relu",
            _leaky,
            _leaky_der,
            r"\begin{cases}z & z > 0\\ 0.01\,z & z \le 0\end{cases}",
            r"\begin{cases}1 & z > 0\\ 0.01 & z \le 0\end{cases}",
        ),
        Activation(
            "elu",
            _elu,
            _elu_der,
            r"\begin{cases}z & z > 0\\ e^{z} - 1 & z \le 0\end{cases}",
            r"\begin{cases}1 & z > 0\\ e^{z} & z \le 0\end{cases}",
        ),
        Activation(
            "gelu",
            _gelu,
            _gelu_der,
            r"\tfrac{z}{2}\left(1 + \tanh\!\left(\sqrt{2/\pi}\,(z + 0.044715 z^3)\right)\right)",
            r"\tfrac{1}{2}(1 + t) + \tfrac{z}{2}(1 - t^2)\,u'",
            der_where=(
                ("t", r"\tanh u,\ u = \sqrt{2/\pi}\,(z + 0.044715 z^3)"),
                ("u'", r"\sqrt{2/\pi}\,(1 + 0.134145 z^2)"),
            ),
        ),
        Activation(
            "softplus",
            _softplus,
            _softplus_der,
            r"\ln(1 + e^{z})",
            r"\sigma(z) = \frac{1}{1+e^{-z}}",
        ),
        Activation(
            "silu", _silu, _silu_der, r"z\,\sigma(z)", r"\sigma(z)\,(1 + z\,(1 - \sigma(z)))"
        ),
        Activation(
            "softmax",
            _softmax,
            _softmax_der,
            r"\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_k e^{z_k}}",
            r"\frac{\partial a_i}{\partial z_k} = a_i(\mathbb{1}[i = k] - a_k)",
            elementwise=False,
        ),
    )
}

# Softmax normalises across a layer: it only makes sense as the output layer's activation.
HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(n for n in ACTIVATIONS if n != "softmax")
