"""Session files: the whole of a user's run in one download, and back.

A session file is an uncompressed ``.npz`` (read with ``allow_pickle=False``: no pickle, no
code) holding the parameters and optimizer buffers at the start of the current mini-batch,
and one JSON document (``meta``) with the settings (in the link's text form), the position in
training, the phases already run in the current batch, the trail and the metrics. Loading
stands at the start of the batch and runs those phases again, so the user continues exactly
where they were. Anything unexpected is refused with ``SessionFileError`` and a clear message.
The Convolution page's session files (``explorer.ui.conv_files``) are the same container
under their own ``format`` and read with the checks here (``read_session_npz``, ``count_of``,
``params_of``, ``metric_rows``); a file handed to the other page is refused by name.
Left out: uploaded datasets (a file names a built-in dataset; uploads must be redone).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.data import DataError, Dataset
from explorer.data.npz import read_npz
from explorer.engine import (
    Event,
    Loaded,
    OptState,
    Params,
    Phases,
    SpecError,
    Stepper,
    StepState,
    phase_sequence,
    replay,
    replayable,
)
from explorer.engine.optim import fits
from explorer.state.settings import Settings
from explorer.state.share import TRAIL_KEY, from_query, to_query

FORMAT = "backprop-explorer-session"
CONV_FORMAT = "backprop-explorer-cnn-session"  # the Convolution page's (explorer.ui.conv_files)
PAGES = {FORMAT: "the Explorer page", CONV_FORMAT: "the Convolution page"}
VERSION = 1
_BUFFERS = ("velocity", "m", "v")
# The largest network the sidebar builds (784-128x6-10) saves 4.4 MB of parameters and Adam
# buffers; metrics rows add about 300 bytes each. Everything is checked against these bounds
# before any array is allocated or any work is done.
MAX_FILE_BYTES = 32 * 1024 * 1024  # decompressed, all members together
MAX_MEMBERS = 64  # meta, then weights and biases of at most 7 layers, three times
MAX_METRICS = 20_000  # rows; a file keeps the newest
MAX_COUNT = 10**9  # epoch, step, position, optimizer step
_MAX_ROW_VALUES = 16  # fields in a metrics row, and gradient norms in one field
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
NOT_OURS = "This is not a Backprop Explorer session file."


class SessionFileError(ValueError):
    """A file that is not a session this app can continue; the message says why."""


@dataclass(frozen=True, eq=False)
class SavedSession:
    """What a session file restores: the run stands at the start of the batch at (epoch,
    position) with ``params``/``opt_state``, then runs ``tail`` (the batch's phases so far)."""

    settings: Settings
    params: Params
    opt_state: OptState
    epoch: int
    step: int
    position: int
    trail: tuple[Event, ...]
    tail: tuple[Event, ...]
    metrics: list[dict[str, Any]]

    def apply_to(self, stepper: Stepper) -> None:
        """Put ``stepper`` (built from ``settings`` on its dataset) where the file was saved:
        the batch's start, then its phases so far, then the saved training settings. Raises
        the engine's NonFiniteError where those phases overflow."""
        stepper.restore(
            self.params,
            self.opt_state,
            epoch=self.epoch,
            step=self.step,
            position=self.position,
            trail=self.trail,
        )
        replay(stepper, self.tail)
        stepper.set_config(self.settings.train_config())


def split_trail(trail: tuple[Event, ...], done: int) -> tuple[tuple[Event, ...], tuple[Event, ...]]:
    """(trail at the start of the batch, the batch's ``done`` phases as Phases events)."""
    head, left = list(trail), done
    tail: list[Event] = []
    while left:
        last = head.pop()
        assert isinstance(last, Phases), "the current batch's phases follow any edit or load"
        take = min(left, last.n)
        tail.insert(0, Phases(take, last.config))
        if last.n > take:
            head.append(Phases(last.n - take, last.config))
        left -= take
    return tuple(head), tuple(tail)


def save_session(
    settings: Settings, state: StepState, n_phases: int, metrics: list[dict[str, Any]]
) -> bytes:
    """The file for ``state`` (with ``n_phases`` phases per step) under ``settings``."""
    done = state.done
    after_update = done == n_phases
    params = state.prev_params if after_update and state.prev_params is not None else state.params
    opt = (
        state.prev_opt_state
        if after_update and state.prev_opt_state is not None
        else state.opt_state
    )
    start_trail, tail = split_trail(state.trail, done)
    loaded = not replayable(start_trail)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "settings": to_query(settings),
        "trail": None if loaded else to_query(settings, start_trail).get(TRAIL_KEY, ""),
        "tail": to_query(settings, tail).get(TRAIL_KEY, ""),
        "epoch": state.epoch,
        "step": state.step - (1 if after_update else 0),
        "position": state.position,
        "optimizer_step": opt.step,
        "metrics": metrics[-MAX_METRICS:],
    }
    arrays: dict[str, Any] = {f"w{i}": w for i, w in enumerate(params.weights)}
    arrays |= {f"b{i}": b for i, b in enumerate(params.biases)}
    for name in _BUFFERS:
        buffer: Params | None = getattr(opt, name)
        if buffer is not None:
            arrays |= {f"{name}_w{i}": w for i, w in enumerate(buffer.weights)}
            arrays |= {f"{name}_b{i}": b for i, b in enumerate(buffer.biases)}
    out = io.BytesIO()
    np.savez(out, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    return out.getvalue()


def read_session_npz(
    data: bytes, fmt: str = FORMAT
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The ``meta`` document and the arrays of a session file of format ``fmt``, within the
    caps; raises SessionFileError for anything else (a file of the other page by name)."""
    if not data:
        raise SessionFileError("The session file is empty.")
    if not data.startswith(b"PK"):
        raise SessionFileError(NOT_OURS)
    try:
        arrays = read_npz(
            data, "The session file", max_bytes=MAX_FILE_BYTES, max_members=MAX_MEMBERS
        )
    except DataError as exc:
        raise SessionFileError(str(exc)) from None
    raw = arrays.pop("meta", None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise SessionFileError(NOT_OURS)
    try:
        meta = json.loads(raw.tobytes().decode())
    # ValueError: not JSON, or an integer of more than 4,300 digits; RecursionError: nesting
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SessionFileError(NOT_OURS) from None
    if not isinstance(meta, dict) or meta.get("format") not in PAGES:
        raise SessionFileError(NOT_OURS)
    if meta["format"] != fmt:
        raise SessionFileError(
            f"This is a session file of {PAGES[meta['format']]}; load it there, not on "
            f"{PAGES[fmt]}."
        )
    if meta.get("version") != VERSION:
        version = str(meta.get("version"))[:20]
        raise SessionFileError(
            f"This session file has version {version}; this app reads {VERSION}."
        )
    return meta, arrays


def count_of(meta: dict[str, Any], key: str, most: int = MAX_COUNT) -> int:
    value = meta.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
        raise SessionFileError(f"The session file's {key} is not a count from 0 to {most:,}.")
    return value


def params_of(arrays: dict[str, np.ndarray], prefix: str, n: int) -> Params:
    try:
        weights = tuple(arrays[f"{prefix}w{i}"] for i in range(n))
        biases = tuple(arrays[f"{prefix}b{i}"] for i in range(n))
    except KeyError:
        raise SessionFileError("The session file is missing some parameters.") from None
    for a in (*weights, *biases):
        if a.dtype not in _DTYPES or not np.isfinite(a).all():
            raise SessionFileError("The session file holds parameters that are not finite numbers.")
    return Params(tuple(w.copy() for w in weights), tuple(b.copy() for b in biases))


def _metric_value(value: Any) -> bool:
    if isinstance(value, list):
        return len(value) <= _MAX_ROW_VALUES and all(_metric_value(v) for v in value)
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def metric_rows(meta: dict[str, Any], step: int) -> list[dict[str, Any]]:
    """The metrics rows: dicts of numbers, None or short lists of numbers, each with the step
    it was measured at (a file saved just after an update stands one step before it); NaN
    and infinities become None."""
    rows = meta.get("metrics", [])
    if not isinstance(rows, list) or len(rows) > MAX_METRICS:
        raise SessionFileError(
            f"The session file's metrics are not a list of at most {MAX_METRICS:,} rows."
        )
    for row in rows:
        if (
            not isinstance(row, dict)
            or len(row) > _MAX_ROW_VALUES
            or not all(_metric_value(v) for v in row.values())
            or not isinstance(row.get("step"), int)
            or isinstance(row["step"], bool)
            or not 0 <= row["step"] <= step + 1
        ):
            raise SessionFileError("The session file's metrics are unreadable.")
        for k, v in row.items():
            if isinstance(v, float) and not math.isfinite(v):
                row[k] = None
    return rows


def _tail(
    meta: dict[str, Any], query: dict[str, str], datasets: Collection[str], n_phases: int
) -> tuple[Event, ...]:
    """The phases already run in the saved batch: at most one step's worth."""
    text = meta.get("tail", "")
    if not isinstance(text, str):
        raise SessionFileError("The session file's current batch is unreadable.")
    link = from_query({**query, TRAIL_KEY: text}, datasets)
    if link.warnings or not all(isinstance(e, Phases) for e in link.trail):
        raise SessionFileError("The session file's current batch is unreadable.")
    if sum(e.n for e in link.trail if isinstance(e, Phases)) > n_phases:
        raise SessionFileError(
            f"The session file ran more phases in its current batch than one step has ({n_phases})."
        )
    return link.trail


def load_session(data: bytes, datasets: Collection[str], dataset_of: Any) -> SavedSession:
    """Read a session file; ``datasets`` are the dataset keys this machine loads and
    ``dataset_of(settings) -> Dataset`` gives the one the settings name (to check shapes).
    Every part is checked (types, ranges, counts, finiteness, the optimizer's buffers)
    before this returns; a caller builds the run from the result off to the side."""
    meta, arrays = read_session_npz(data)
    query = meta.get("settings")
    if not isinstance(query, dict) or not all(isinstance(v, str) for v in query.values()):
        raise SessionFileError("The session file's settings are unreadable.")
    trail_text = meta.get("trail")
    if trail_text is not None and not isinstance(trail_text, str):
        raise SessionFileError("The session file's trail is unreadable.")
    link = from_query({**query, TRAIL_KEY: trail_text or ""}, datasets)
    if link.warnings:
        raise SessionFileError(
            f"The session file's settings are not usable here: {link.warnings[0]}"
        )
    settings = link.settings
    dataset: Dataset = dataset_of(settings)
    spec = settings.network_spec(dataset)
    n = len(spec.layers)
    tail = _tail(meta, query, datasets, len(phase_sequence(n)))
    params = params_of(arrays, "", n)
    buffers = {
        name: params_of(arrays, f"{name}_", n) for name in _BUFFERS if f"{name}_w0" in arrays
    }
    try:
        params.check_shapes(spec)
        for buffer in buffers.values():
            buffer.check_shapes(spec)
    except SpecError as exc:
        raise SessionFileError(f"The session file does not fit its own network: {exc}") from None
    opt_state = OptState(count_of(meta, "optimizer_step"), **buffers)
    if not fits(opt_state, settings.train_config()):
        raise SessionFileError(
            f"The session file's optimizer state does not match its optimizer "
            f"({settings.optimizer})."
        )
    position = count_of(meta, "position")
    if position >= len(dataset.x_train):
        raise SessionFileError("The session file's position lies outside its dataset.")
    step = count_of(meta, "step")
    return SavedSession(
        settings,
        params,
        opt_state,
        count_of(meta, "epoch"),
        step,
        position,
        link.trail if trail_text is not None else (Loaded(),),
        tail,
        metric_rows(meta, step),
    )
