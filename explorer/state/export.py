"""Exports of a trained network: a PyTorch ``state_dict`` and a standalone NumPy script.

The state_dict is laid out for a plain ``torch.nn.Sequential`` of Linear layers and activations
(keys ``0.weight``, ``0.bias``, ``2.weight``, ...; Linear weights are (out, in)), so anyone can
load it with the code ``sequential_code`` prints. The script needs only NumPy: the parameters
travel inside it (a base64 ``.npz``), and ``python script.py inputs.npy`` prints predictions.
Torch is imported only when a state_dict is asked for.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

from explorer.engine import NetworkSpec, Params

# Each activation as NumPy source for the script; the engine's definitions, which a test
# holds the script to.
_SCRIPT_ACTIVATIONS = {
    "identity": "z",
    "sigmoid": "0.5 * (1 + np.tanh(0.5 * z))",
    "tanh": "np.tanh(z)",
    "relu": "np.maximum(z, 0)",
    "leaky_relu": "np.where(z > 0, z, 0.01 * z)",
    "elu": "np.where(z > 0, z, np.expm1(np.minimum(z, 0)))",
    "gelu": (
        "0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * np.clip(z, -50, 50) ** 3)))"
    ),
    "softplus": "np.where(z > 20, z, np.log1p(np.exp(np.minimum(z, 20))))",
    "silu": "z * 0.5 * (1 + np.tanh(0.5 * z))",
    "softmax": "_softmax(z)",
}
_TORCH_MODULES = {
    "identity": "nn.Identity()",
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "relu": "nn.ReLU()",
    "leaky_relu": "nn.LeakyReLU(0.01)",
    "elu": "nn.ELU()",
    "gelu": 'nn.GELU(approximate="tanh")',
    "softplus": "nn.Softplus()",
    "silu": "nn.SiLU()",
    "softmax": "nn.Softmax(dim=1)",
}


def sequential_code(spec: NetworkSpec) -> str:
    """The ``nn.Sequential`` the exported state_dict loads into."""
    parts = []
    for fan_in, layer in zip(spec.sizes[:-1], spec.layers, strict=True):
        parts.append(f"nn.Linear({fan_in}, {layer.size})")
        parts.append(_TORCH_MODULES[layer.activation])
    return "nn.Sequential(\n    " + ",\n    ".join(parts) + ",\n)"


def torch_state_dict(params: Params) -> bytes:
    """``torch.save`` bytes of the Sequential state_dict (float32). Needs torch."""
    import torch

    state = {}
    for i, (w, b) in enumerate(zip(params.weights, params.biases, strict=True)):
        state[f"{2 * i}.weight"] = torch.tensor(w.T, dtype=torch.float32)
        state[f"{2 * i}.bias"] = torch.tensor(b, dtype=torch.float32)
    out = io.BytesIO()
    torch.save(state, out)
    return out.getvalue()


def standalone_script(spec: NetworkSpec, params: Params, class_names: tuple[str, ...]) -> str:
    """A NumPy-only Python script that rebuilds the network and predicts."""
    arrays: dict[str, Any] = {f"w{i}": w for i, w in enumerate(params.weights)}
    arrays |= {f"b{i}": b for i, b in enumerate(params.biases)}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    blob = base64.b64encode(buf.getvalue()).decode()
    lines = "\n".join(f"    {blob[i : i + 96]!r}" for i in range(0, len(blob), 96))
    layers = ", ".join(repr(layer.activation) for layer in spec.layers)
    branches = "\n".join(
        f"    if name == {name!r}:\n        return {code}"
        for name, code in _SCRIPT_ACTIVATIONS.items()
    )
    return f'''"""A {spec.describe()} network exported from Backprop Explorer. NumPy only.

    python this_script.py inputs.npy     # inputs: (n, {spec.input_size}) floats, pixels in [0, 1]

prints JSON with the output layer's activations and the predicted classes. Or import it and
call predict_proba(x) / predict(x).
"""

import base64
import io
from typing import Any
import json
import sys

import numpy as np

ACTIVATIONS = [{layers}]
CLASS_NAMES = {list(class_names)!r}
_PARAMS = (
{lines}
)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _activate(name, z):
{branches}
    raise ValueError(name)


def _load():
    with np.load(io.BytesIO(base64.b64decode("".join(_PARAMS)))) as z:
        n = len(ACTIVATIONS)
        return [z[f"w{{i}}"] for i in range(n)], [z[f"b{{i}}"] for i in range(n)]


WEIGHTS, BIASES = _load()


def predict_proba(x):
    """The output layer's activations for inputs x of shape (n, {spec.input_size})."""
    a = np.asarray(x, dtype=np.float64)
    for w, b, name in zip(WEIGHTS, BIASES, ACTIVATIONS):
        a = _activate(name, a @ w + b)
    return a


def predict(x):
    """Class indices: the largest output, or output > 0.5 for a single output unit."""
    out = predict_proba(x)
    return (out[:, 0] > 0.5).astype(int) if out.shape[1] == 1 else out.argmax(axis=1)


if __name__ == "__main__":
    x = np.load(sys.argv[1], allow_pickle=False)
    print(json.dumps({{"output": predict_proba(x).tolist(), "classes": predict(x).tolist()}}))
'''
