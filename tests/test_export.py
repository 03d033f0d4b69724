"""Exports: the standalone NumPy script predicts what the app predicts; the state_dict loads
into the printed nn.Sequential and computes the same outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.engine import ACTIVATIONS, forward, init_params, predict_classes
from explorer.state.export import sequential_code, standalone_script, torch_state_dict
from tests.conftest import net

CASES = [
    net((6, 5, 4, 3), hidden, "softmax", "cross_entropy")
    for hidden in ACTIVATIONS
    if hidden != "softmax"
] + [net((4, 3, 1), "tanh", "sigmoid", "binary_cross_entropy")]


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s.layers[0].activation + "-" + s.loss)
def test_the_script_predicts_what_the_app_predicts(spec, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    params = init_params(spec, rng, "xavier_normal", bias=0.1)
    x = rng.normal(size=(9, spec.input_size)) * 3
    script = tmp_path / "predict.py"
    script.write_text(standalone_script(spec, params, ("a", "b", "c")))
    np.save(tmp_path / "x.npy", x)
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "x.npy")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    result = json.loads(out.stdout)
    app = forward(spec, params, x).output[-1]
    np.testing.assert_allclose(np.array(result["output"]), app, rtol=1e-12, atol=1e-14)
    assert result["classes"] == predict_classes(app).tolist()


def test_the_state_dict_loads_into_the_printed_sequential() -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed")
    spec = net((5, 7, 4, 3), "gelu", "softmax", "cross_entropy")
    params = init_params(spec, np.random.default_rng(1))
    import io

    model = eval(sequential_code(spec), {"nn": torch.nn})  # our own generated code, not user input
    model.load_state_dict(torch.load(io.BytesIO(torch_state_dict(params)), weights_only=True))
    x = np.random.default_rng(2).normal(size=(4, 5))
    with torch.no_grad():
        got = model(torch.tensor(x, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(got, forward(spec, params, x).output[-1], rtol=1e-4, atol=1e-6)
