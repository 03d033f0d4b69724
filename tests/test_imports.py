"""Import boundaries (docs/design.md): the engine, data and figures never pull in streamlit; only
explorer.torch_backend may import torch."""

from __future__ import annotations

import subprocess
import sys

import pytest


def imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in out.stdout.split()}


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("explorer.engine", {"streamlit", "plotly", "torch"}),
        ("explorer.engine.conv", {"streamlit", "plotly", "torch"}),
        ("explorer.data", {"streamlit", "plotly", "torch"}),
        ("explorer.figures", {"streamlit", "torch"}),
        ("explorer.inspector", {"streamlit", "plotly", "torch"}),
        ("explorer.settings", {"streamlit", "plotly", "torch"}),
        ("explorer.ui.explorer_view", {"torch"}),
    ],
)
def test_import_boundaries(module: str, forbidden: set[str]) -> None:
    assert not imported_after(module) & forbidden
