"""Save, load and export: the session file, a PyTorch state_dict, a standalone NumPy script.

Files are made on request ("Prepare") rather than on every rerun, and a loaded file replaces
the run only once it has been read and checked; a bad file leaves the current network as it
was and says why.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import streamlit as st

from explorer.data import available_datasets
from explorer.engine import NonFiniteError
from explorer.state.export import sequential_code, standalone_script, torch_state_dict
from explorer.state.session_file import SessionFileError, load_session, save_session
from explorer.torch_backend import torch_available
from explorer.ui import keys
from explorer.ui.datasets import dataset_for
from explorer.ui.guard import Commit, guard, show_refusal
from explorer.ui.page import commit_run, prepare_run
from explorer.ui.session import Metrics, Run

_METRIC_FIELDS = {f.name for f in fields(Metrics)}


def _prepare(run: Run) -> None:
    s = run.stepper.state
    metrics = [asdict(m) for m in run.metrics.values()]
    files = {
        "backprop-session.npz": save_session(run.settings, s, len(run.stepper.phases), metrics),
        "predict.py": standalone_script(run.spec, s.params, run.dataset.class_names).encode(),
    }
    if torch_available():
        files["state_dict.pt"] = torch_state_dict(s.params)
    st.session_state[keys.PREPARED_FILES] = files


def _metrics(row: dict[str, Any]) -> Metrics:
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}
    return Metrics(**values)


def _load() -> None:
    upload = st.session_state.get(keys.W_SESSION_FILE)
    if upload is not None:
        guard(keys.SESSION_FILE, lambda: _prepare_load(upload.getvalue()))


def _prepare_load(data: bytes) -> Commit:
    """The saved run, rebuilt and checked in full before it replaces the user's."""
    saved = load_session(data, available_datasets(), dataset_for)
    run = prepare_run(saved.settings, dataset_for(saved.settings))
    try:
        saved.apply_to(run.stepper)
        run.metrics = {m["step"]: _metrics(m) for m in saved.metrics if set(m) == _METRIC_FIELDS}
        run.record()
    except NonFiniteError as exc:
        where = exc.phase if exc.layer is None else f"{exc.phase} pass, layer {exc.layer + 1}"
        raise SessionFileError(
            f"The session file's network cannot be continued: its numbers overflow to NaN "
            f"or infinity ({where})."
        ) from None
    run.notice = "Session loaded: training continues where it was saved."
    return lambda: commit_run(run)


LABELS = {
    "backprop-session.npz": "Session (continue later)",
    "predict.py": "NumPy script (predicts on its own)",
    "state_dict.pt": "PyTorch state_dict",
}


def files_panel(run: Run) -> None:
    """The Save / load / export expander's contents."""
    st.button(
        "Prepare files of this network",
        key="b_prepare_files",
        on_click=_prepare,
        args=(run,),
        help="The session (settings, parameters, optimizer state, metrics, position), a "
        "standalone NumPy script, and a PyTorch state_dict.",
    )
    prepared: dict[str, bytes] = st.session_state.get(keys.PREPARED_FILES, {})
    for name, data in prepared.items():
        st.download_button(LABELS[name], data, file_name=name, key=f"b_download_{name}")
    if "state_dict.pt" in prepared:
        st.caption("The state_dict loads into:")
        st.code(sequential_code(run.spec), language="python")
    elif prepared:
        st.caption("Install the torch extra (pip install '.[torch]') to export a state_dict.")
    st.file_uploader(
        "Continue a saved session", type=["npz"], key=keys.W_SESSION_FILE, on_change=_load
    )
    show_refusal(keys.SESSION_FILE)
