"""Import boundaries (DESIGN.md): the engine, data and figures never pull in streamlit; only
explorer.torch_backend may import torch."""

from __future__ import annotations

import subprocess
import sys

import pytest


def imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in out.stdout.split()}


@pytest.mark.parametrize("module", ["explorer.engine"])
def test_engine_imports_no_ui_and_no_torch(module: str) -> None:
    loaded = imported_after(module)
    assert not loaded & {"streamlit", "plotly", "torch"}
