"""The Convolution page's session file: its CNN in one download, and back.

The Explorer's container (``explorer.state.session_file``: an uncompressed ``.npz``, no pickles,
checked against its caps before anything is allocated) under a format of its own: the
parameters and optimizer buffers at the start of the current mini-batch, the kernel history
the training views draw (``kernel_steps`` (n,) and ``kernel_maps`` (n, F, C, k, k)), and a
``meta`` JSON document with the builder's choices (in the CNN link's form,
``explorer.ui.conv_link``), the position in training, the trail, the phases already run in
the current batch and the metrics. Loading checks every part, builds the network off to the
side, stands at the start of the batch and runs those phases again (``replay_conv``, within
one step); only then does it replace the page's network, through ``explorer.ui.guard``.
The panel also opens a ``params.npz`` that ``python -m explorer.training.cli`` wrote for a CNN, in
place of the page's parameters when it fits the builder's network.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import streamlit as st

from explorer.engine import Event, Loaded, NonFiniteError, OptState, Params, Phases, SpecError
from explorer.engine.conv import ConvStepState
from explorer.engine.conv.replay import replay_conv
from explorer.engine.optim import fits
from explorer.engine.trail import replayable
from explorer.engine.types import Array
from explorer.state.run_config import load_params
from explorer.state.session_file import (
    CONV_FORMAT,
    MAX_METRICS,
    VERSION,
    SessionFileError,
    count_of,
    metric_rows,
    params_of,
    read_session_npz,
    split_trail,
)
from explorer.state.settings import Settings
from explorer.state.share import TRAIL_KEY
from explorer.ui import keys
from explorer.ui.conv_link import conv_from_query, conv_to_query
from explorer.ui.conv_session import ConvRun, ConvSettings, build_conv, image_datasets
from explorer.ui.datasets import dataset_for
from explorer.ui.guard import Commit, guard, show_refusal
from explorer.ui.session import Metrics

PARAMS_FILE_ROOM = 1024 * 1024  # in a parameters file, beyond its float64 weights
FILE_NAME = "cnn-session.npz"
_BUFFERS = ("velocity", "m", "v")
_METRIC_FIELDS = {f.name for f in fields(Metrics)}


@dataclass(frozen=True, eq=False)
class SavedConv:
    """What a CNN session file restores: the network stands at the start of the batch at
    (epoch, position) with ``params``/``opt_state``, then runs ``tail``."""

    settings: ConvSettings
    params: Params
    opt_state: OptState
    epoch: int
    step: int
    position: int
    trail: tuple[Event, ...]
    tail: tuple[Event, ...]
    metrics: list[dict[str, Any]]
    kernels: dict[int, Array]


def save_conv_session(run: ConvRun) -> bytes:
    """The file of ``run`` as it stands."""
    state: ConvStepState = run.stepper.state
    after_update = state.done == len(run.stepper.phases) and state.prev_params is not None
    params = state.prev_params if after_update and state.prev_params else state.params
    opt = state.prev_opt_state if after_update and state.prev_opt_state else state.opt_state
    start_trail, tail = split_trail(state.trail, state.done)
    query = conv_to_query(run.settings)
    meta = {
        "format": CONV_FORMAT,
        "version": VERSION,
        "settings": query,
        "trail": conv_to_query(run.settings, start_trail).get(TRAIL_KEY, "")
        if replayable(start_trail)
        else None,
        "tail": conv_to_query(run.settings, tail).get(TRAIL_KEY, ""),
        "epoch": state.epoch,
        "step": state.step - (1 if after_update else 0),
        "position": state.position,
        "optimizer_step": opt.step,
        "metrics": [asdict(m) for m in list(run.metrics.values())[-MAX_METRICS:]],
    }
    arrays: dict[str, Any] = {f"w{i}": w for i, w in enumerate(params.weights)}
    arrays |= {f"b{i}": b for i, b in enumerate(params.biases)}
    for name in _BUFFERS:
        buffer: Params | None = getattr(opt, name)
        if buffer is not None:
            arrays |= {f"{name}_w{i}": w for i, w in enumerate(buffer.weights)}
            arrays |= {f"{name}_b{i}": b for i, b in enumerate(buffer.biases)}
    steps = sorted(run.kernels)[-MAX_METRICS:]
    shape = params.weights[0].shape
    arrays["kernel_steps"] = np.array(steps, dtype=np.int64)
    arrays["kernel_maps"] = np.array([run.kernels[k] for k in steps]).reshape(len(steps), *shape)
    out = io.BytesIO()
    np.savez(out, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    return out.getvalue()


def _text(meta: dict[str, Any], key: str) -> str:
    value = meta.get(key, "")
    if not isinstance(value, str):
        raise SessionFileError(f"The session file's {key} is unreadable.")
    return value


def _kernels(arrays: dict[str, np.ndarray], shape: tuple[int, ...], step: int) -> dict[int, Array]:
    steps, maps = arrays.get("kernel_steps"), arrays.get("kernel_maps")
    if steps is None or maps is None:
        raise SessionFileError("The session file lacks its kernel history.")
    if (
        steps.dtype.kind not in "iu"
        or steps.ndim != 1
        or len(steps) > MAX_METRICS
        or maps.dtype not in (np.float32, np.float64)
        or maps.shape != (len(steps), *shape)
        or not np.isfinite(maps).all()
        or (len(steps) and not 0 <= steps.min() <= steps.max() <= step + 1)
    ):
        raise SessionFileError("The session file's kernel history does not fit its network.")
    return {int(k): maps[i].copy() for i, k in enumerate(steps)}


def load_conv_session(data: bytes) -> SavedConv:
    """Read a CNN session file, every part checked; raises SessionFileError (or the
    DataError or SpecError of a network that cannot be built here)."""
    meta, arrays = read_session_npz(data, CONV_FORMAT)
    query = meta.get("settings")
    if not isinstance(query, dict) or not all(isinstance(v, str) for v in query.values()):
        raise SessionFileError("The session file's settings are unreadable.")
    trail_text = meta.get("trail")
    if trail_text is not None and not isinstance(trail_text, str):
        raise SessionFileError("The session file's trail is unreadable.")
    datasets = image_datasets()
    link = conv_from_query({**query, TRAIL_KEY: trail_text or ""}, datasets)
    tail = conv_from_query({**query, TRAIL_KEY: _text(meta, "tail")}, datasets)
    if link.warnings or tail.warnings:
        raise SessionFileError(
            f"The session file's settings are not usable here: {(link.warnings + tail.warnings)[0]}"
        )
    settings = link.settings
    dataset = dataset_for(replace(Settings(), dataset=settings.dataset))
    spec = settings.spec(dataset)
    n = spec.n_layers
    if (
        not all(isinstance(e, Phases) for e in tail.trail)
        or sum(e.n for e in tail.trail if isinstance(e, Phases)) > 2 * n + 2
    ):
        raise SessionFileError("The session file's current batch is unreadable.")
    params = params_of(arrays, "", n)
    buffers = {
        name: params_of(arrays, f"{name}_", n) for name in _BUFFERS if f"{name}_w0" in arrays
    }
    try:
        for p in (params, *buffers.values()):
            spec.check_params(p)
    except SpecError as exc:
        raise SessionFileError(f"The session file does not fit its own network: {exc}") from None
    opt_state = OptState(count_of(meta, "optimizer_step"), **buffers)
    if not fits(opt_state, settings.config()):
        raise SessionFileError("The session file's optimizer state does not match its optimizer.")
    position = count_of(meta, "position")
    if position >= len(dataset.x_train):
        raise SessionFileError("The session file's position lies outside its dataset.")
    step = count_of(meta, "step")
    return SavedConv(
        settings,
        params,
        opt_state,
        count_of(meta, "epoch"),
        step,
        position,
        link.trail if trail_text is not None else (Loaded(),),
        tail.trail,
        metric_rows(meta, step),
        _kernels(arrays, spec.param_shapes[0][0], step),
    )


def _metrics(row: dict[str, Any]) -> Metrics:
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}
    return Metrics(**values)


def conv_run_of(saved: SavedConv) -> ConvRun:
    """The saved network, built and continued to where it was saved."""
    run = build_conv(saved.settings)
    run.stepper.restore(
        saved.params,
        saved.opt_state,
        epoch=saved.epoch,
        step=saved.step,
        position=saved.position,
        trail=saved.trail,
    )
    try:
        replay_conv(run.stepper, saved.tail)
    except NonFiniteError as exc:
        raise SessionFileError(
            f"The session file's network cannot be continued: its numbers overflow ({exc})."
        ) from None
    run.stepper.set_config(saved.settings.config())
    run.metrics = {m["step"]: _metrics(m) for m in saved.metrics if set(m) == _METRIC_FIELDS}
    run.kernels = saved.kernels
    return run


# -- the page --------------------------------------------------------------------------------
def _prepare() -> None:
    st.session_state[keys.CONV_PREPARED_FILE] = save_conv_session(st.session_state[keys.CONV_RUN])


def _load() -> None:
    upload = st.session_state.get(keys.CW_SESSION_FILE)
    if upload is None:
        return

    def prepare() -> Commit:
        run = conv_run_of(load_conv_session(upload.getvalue()))

        def commit() -> None:
            st.session_state[keys.CONV_RUN] = run
            st.session_state.pop(keys.CONV_PREPARED_FILE, None)
            forget_builder()

        return commit

    guard(keys.CONV_SESSION_FILE, prepare)


def _open_params() -> None:
    """A ``params.npz`` of ``python -m explorer.training.cli`` in place of the page's parameters
    (the builder's network: the file must fit it); Back undoes it."""
    upload = st.session_state.get(keys.CW_PARAMS_FILE)
    if upload is None:
        return
    run: ConvRun = st.session_state[keys.CONV_RUN]

    def prepare() -> Commit:
        limit = 8 * run.spec.n_params + PARAMS_FILE_ROOM
        params = load_params(upload.getvalue(), max_bytes=limit)
        try:
            run.spec.check_params(params)
        except SpecError as exc:
            raise SpecError(f"{exc} The builder makes {run.spec.describe()}.") from None

        def commit() -> None:
            run.stepper.set_params(params)
            run.record()

        return commit

    guard(keys.CONV_PARAMS_FILE, prepare)


def forget_builder() -> None:
    """Drop the page's widget values, so that its builder is seeded again from the page's
    network (call it after putting a new one in place)."""
    for key in [k for k in st.session_state if str(k).startswith("cw_")]:
        if key not in (keys.CW_SESSION_FILE, keys.CW_PARAMS_FILE):  # the uploaders keep their files
            del st.session_state[key]


def conv_files_panel() -> None:
    """Save the page's network as a session file, or continue one."""
    st.button(
        "Prepare the session file",
        key="cb_prepare_file",
        on_click=_prepare,
        help="Settings, parameters, optimizer state, metrics, kernel history and position.",
    )
    prepared = st.session_state.get(keys.CONV_PREPARED_FILE)
    if prepared is not None:
        st.download_button(
            "Session (continue later)", prepared, file_name=FILE_NAME, key="cb_download"
        )
    st.file_uploader(
        "Continue a saved session", type=["npz"], key=keys.CW_SESSION_FILE, on_change=_load
    )
    show_refusal(keys.CONV_SESSION_FILE)
    st.file_uploader(
        "Open a CNN trained on the command line (params.npz of python -m explorer.training.cli)",
        type=["npz"],
        key=keys.CW_PARAMS_FILE,
        on_change=_open_params,
    )
    show_refusal(keys.CONV_PARAMS_FILE)
