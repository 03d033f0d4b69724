"""Each activation's derivative against a numeric derivative, and stability at large |z|."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import ACTIVATIONS

NAMES = list(ACTIVATIONS)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_difference(name: str) -> None:
    act = ACTIVATIONS[name]
    # avoid the kinks of relu / leaky_relu / elu at exactly 0
    z = np.linspace(-6.0, 6.0, 401).reshape(1, -1) + 1e-3
    h = 1e-6
    if act.elementwise:
        numeric = (act.output(z + h) - act.output(z - h)) / (2 * h)
        np.testing.assert_allclose(act.der(z), numeric, rtol=1e-6, atol=1e-8)
    else:
        # softmax: input_der is the Jacobian-vector product; compare with the full Jacobian
        z = np.array([[0.3, -1.2, 2.0, 0.1]])
        g = np.array([[0.5, -0.25, 1.5, 2.0]])
        jac = np.empty((4, 4))
        for k in range(4):
            e = np.zeros_like(z)
            e[0, k] = h
            jac[:, k] = ((act.output(z + e) - act.output(z - e)) / (2 * h))[0]
        np.testing.assert_allclose(act.input_der(z, act.output(z), g)[0], g[0] @ jac, rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_inputs(name: str, dtype: type) -> None:
    act = ACTIVATIONS[name]
    z = np.array([[-1e4, -700.0, -50.0, 0.0, 50.0, 700.0, 1e4]], dtype=dtype)
    # pytest turns RuntimeWarning (overflow, invalid) into errors for this whole suite
    out = act.output(z)
    der = act.der(z)
    assert np.isfinite(out).all() and np.isfinite(der).all()
    assert out.dtype == dtype and der.dtype == dtype


def test_known_values() -> None:
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(ACTIVATIONS["relu"].output(z), [0, 0, 3])
    np.testing.assert_allclose(ACTIVATIONS["leaky_relu"].output(z), [-0.02, 0, 3])
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].output(np.array([0.0])), [0.5])
    np.testing.assert_allclose(ACTIVATIONS["softplus"].output(np.array([25.0])), [25.0])
    s = ACTIVATIONS["softmax"].output(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(s.sum(), 1.0)
