"""Import boundaries (docs/design.md): the layers import one way only, engine -> data ->
torch_backend -> state -> training -> analysis -> figures -> ui (lessons with it) -> pages; the
engine, data and figures never pull in streamlit; only explorer.torch_backend may import torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("engine", "data", "torch_backend", "state", "training", "analysis", "figures", "ui")
# The lessons are page content: they name pages and build the Convolution page's links, and the
# UI reads them, so they sit in the UI's layer.
SAME_LAYER = {"lessons": "ui"}


def rank(module: str) -> int | None:
    """The layer of an ``explorer`` or page module, lowest first; None for anything else."""
    parts = module.split(".")
    if parts[0] == "app_pages":
        return len(LAYERS)
    if parts[0] != "explorer" or len(parts) < 2:
        return None
    layer = SAME_LAYER.get(parts[1], parts[1])
    return LAYERS.index(layer) if layer in LAYERS else None


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def upward_imports() -> list[str]:
    upward = []
    for path in [*ROOT.glob("explorer/**/*.py"), *ROOT.glob("app_pages/*.py")]:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        mine = rank(module)
        assert mine is not None or module in ("explorer", "explorer.__init__"), module
        for target in imports(path):
            theirs = rank(target)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{module} imports {target}")
    return upward


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert upward_imports() == []


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The check is live: a figure importing the UI is found."""
    fake = tmp_path / "figure.py"
    fake.write_text("from explorer.ui.session import Run\nimport explorer.engine\n")
    ranks = {t: rank(t) for t in imports(fake)}
    assert (
        ranks["explorer.ui.session"] > rank("explorer.figures.network") > ranks["explorer.engine"]
    )


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
        ("explorer.analysis.inspector", {"streamlit", "plotly", "torch"}),
        ("explorer.analysis.compare", {"streamlit", "plotly", "torch"}),
        ("explorer.analysis.gallery", {"streamlit", "plotly", "torch"}),
        ("explorer.analysis.race", {"streamlit", "torch"}),
        ("explorer.state.settings", {"streamlit", "plotly", "torch"}),
        ("explorer.ui.explorer_view", {"torch"}),
    ],
)
def test_import_boundaries(module: str, forbidden: set[str]) -> None:
    assert not imported_after(module) & forbidden
