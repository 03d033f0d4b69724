"""Session files: the whole of a user's run in one download, and back.

A session file is an uncompressed ``.npz`` (read with ``allow_pickle=False``: no pickle, no
code) holding the parameters and optimizer buffers at the start of the current mini-batch,
and one JSON document (``meta``) with the settings (in the link's text form), the position in
training, the phases already run in the current batch, the trail and the metrics. Loading
stands at the start of the batch and runs those phases again, so the user continues exactly
where they were. Anything unexpected is refused with ``SessionFileError`` and a clear message.
Left out: uploaded datasets (a file names a built-in dataset; uploads must be redone).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from explorer.data import MAX_BYTES, Dataset
from explorer.engine import (
    Event,
    Loaded,
    OptState,
    Params,
    Phases,
    SpecError,
    StepState,
    replayable,
)
from explorer.settings import Settings
from explorer.share import TRAIL_KEY, from_query, to_query

FORMAT = "backprop-explorer-session"
VERSION = 1
_BUFFERS = ("velocity", "m", "v")


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


def _split_trail(
    trail: tuple[Event, ...], done: int
) -> tuple[tuple[Event, ...], tuple[Event, ...]]:
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
    start_trail, tail = _split_trail(state.trail, done)
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
        "metrics": metrics,
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


def _read(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not data:
        raise SessionFileError("The session file is empty.")
    if len(data) > MAX_BYTES:
        raise SessionFileError("The session file is too large to be one of ours.")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    # zipfile reports damage in many ways: an unknown compression method (NotImplementedError),
    # a flag claiming encryption (RuntimeError), a bad CRC (BadZipFile), a short read (EOFError)
    except (
        zipfile.BadZipFile,
        ValueError,
        OSError,
        KeyError,
        EOFError,
        RuntimeError,
        NotImplementedError,
        zlib.error,
    ):
        raise SessionFileError("This is not a Backprop Explorer session file.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SessionFileError("This is not a Backprop Explorer session file.")
    if meta.get("version") != VERSION:
        raise SessionFileError(
            f"This session file has version {meta.get('version')!r}; this app reads {VERSION}."
        )
    return meta, arrays


def _count(meta: dict[str, Any], key: str) -> int:
    value = meta.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SessionFileError(f"The session file's {key} is not a count.")
    return value


def _params(arrays: dict[str, np.ndarray], prefix: str, n: int) -> Params:
    try:
        weights = tuple(arrays[f"{prefix}w{i}"] for i in range(n))
        biases = tuple(arrays[f"{prefix}b{i}"] for i in range(n))
    except KeyError:
        raise SessionFileError("The session file is missing some parameters.") from None
    for a in (*weights, *biases):
        if a.dtype.kind != "f" or not np.isfinite(a).all():
            raise SessionFileError("The session file holds parameters that are not finite numbers.")
    return Params(tuple(w.copy() for w in weights), tuple(b.copy() for b in biases))


def load_session(data: bytes, datasets: Collection[str], dataset_of: Any) -> SavedSession:
    """Read a session file; ``datasets`` are the dataset keys this machine loads and
    ``dataset_of(settings) -> Dataset`` gives the one the settings name (to check shapes)."""
    meta, arrays = _read(data)
    query = meta.get("settings")
    if not isinstance(query, dict) or not all(isinstance(v, str) for v in query.values()):
        raise SessionFileError("The session file's settings are unreadable.")
    link = from_query({**query, TRAIL_KEY: meta.get("trail") or ""}, datasets)
    if link.warnings:
        raise SessionFileError(
            f"The session file's settings are not usable here: {link.warnings[0]}"
        )
    settings = link.settings
    tail = from_query({**query, TRAIL_KEY: str(meta.get("tail", ""))}, datasets)
    dataset: Dataset = dataset_of(settings)
    spec = settings.network_spec(dataset)
    n = len(spec.layers)
    params = _params(arrays, "", n)
    buffers = {name: _params(arrays, f"{name}_", n) for name in _BUFFERS if f"{name}_w0" in arrays}
    try:
        params.check_shapes(spec)
        for buffer in buffers.values():
            buffer.check_shapes(spec)
    except SpecError as exc:
        raise SessionFileError(f"The session file does not fit its own network: {exc}") from None
    opt_state = OptState(_count(meta, "optimizer_step"), **buffers)
    position = _count(meta, "position")
    if position >= len(dataset.x_train):
        raise SessionFileError("The session file's position lies outside its dataset.")
    metrics = meta.get("metrics", [])
    if not isinstance(metrics, list) or not all(
        isinstance(m, dict)
        and all(isinstance(v, (int, float, list, type(None))) for v in m.values())
        for m in metrics
    ):
        raise SessionFileError("The session file's metrics are unreadable.")
    trail = link.trail if meta.get("trail") is not None else (Loaded(),)
    for m in metrics:
        for k, v in m.items():
            if isinstance(v, float) and not math.isfinite(v):
                m[k] = None
    return SavedSession(
        settings,
        params,
        opt_state,
        _count(meta, "epoch"),
        _count(meta, "step"),
        position,
        trail,
        tail.trail,
        metrics,
    )
