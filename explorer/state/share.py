"""Shareable links: Settings and the trail to and from URL query parameters.

One table drives both directions: the fields of ``Settings`` with their metadata (group, range,
choices), as the Playground's ``state.ts`` does. A link holds every setting and the trail (what
was run since the network was built), so opening it elsewhere rebuilds the same network at the
same point, bit for bit. Reading a link never raises: an unknown, malformed or out-of-range
parameter is reported in the returned warnings and falls back to its default.
No streamlit here: the page reads and writes ``st.query_params`` with these two functions.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from explorer.engine import TrainConfig
from explorer.engine.trail import Edit, Event, FastEpoch, Phases, replayable
from explorer.state.settings import MAX_HIDDEN_LAYERS, Settings

TRAIL_KEY = "trail"
MAX_VALUE_CHARS = 2000  # longer values are refused unread
MAX_TRAIL_ITEMS = 500
SHOWN_UNKNOWN = 3  # unknown keys named in the one warning about them
TRAINING_FIELDS = tuple(f.name for f in fields(Settings) if f.metadata["group"] == "training")
_FIELDS = {f.name: f for f in fields(Settings)}


@dataclass(frozen=True)
class Link:
    """What a link holds: the settings and the trail; ``warnings`` says what was ignored."""

    settings: Settings
    trail: tuple[Event, ...]
    warnings: tuple[str, ...]


# -- writing --------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(_text(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def _config_diff(base: TrainConfig, config: TrainConfig) -> str:
    return ",".join(
        f"{name}={_text(getattr(config, name))}"
        for name in TRAINING_FIELDS
        if getattr(config, name) != getattr(base, name)
    )


def _event_text(base: TrainConfig, event: Event) -> str:
    if isinstance(event, Phases | FastEpoch):
        head = str(event.n) if isinstance(event, Phases) else "F"
        diff = _config_diff(base, event.config)
        return f"{head}~{diff}" if diff else head
    if isinstance(event, Edit):
        where = (
            f"B{event.layer}.{event.col}"
            if event.row is None
            else (f"W{event.layer}.{event.row}.{event.col}")
        )
        return f"{where}={event.value!r}"
    raise ValueError("Parameters loaded from elsewhere cannot go into a link.")


def to_query(settings: Settings, trail: tuple[Event, ...] = ()) -> dict[str, str]:
    """Query parameters for ``settings`` and ``trail`` (every field, so links stay valid
    when defaults change). Raises ValueError for a trail holding loaded parameters."""
    if not replayable(trail):
        raise ValueError(
            "This network holds parameters loaded from elsewhere; a link cannot rebuild it."
        )
    query = {f.name: _text(getattr(settings, f.name)) for f in fields(Settings)}
    if trail:
        query[TRAIL_KEY] = trail_text(settings.train_config(), trail)
    return query


def trail_text(base: TrainConfig, trail: tuple[Event, ...]) -> str:
    """The trail's link text: each event's training settings as changes from ``base``."""
    return ";".join(_event_text(base, e) for e in trail)


# -- reading --------------------------------------------------------------------------------
class _Bad(ValueError):
    """One value that cannot be used; the message names it."""


def _number(name: str, raw: str, meta: Mapping[str, Any], kind: type) -> int | float:
    try:
        value = int(raw) if kind is int else float(raw)
    except ValueError:
        raise _Bad(f"{name} = {raw!r} is not a {'whole ' if kind is int else ''}number") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad(f"{name} = {raw!r} is not a finite number")
    if not meta["lo"] <= value <= meta["hi"]:
        raise _Bad(f"{name} = {raw} is outside {meta['lo']}..{meta['hi']}")
    return value


def _choice(name: str, raw: str, choices: Collection[str]) -> str:
    if raw not in choices:
        raise _Bad(f"{name} = {raw!r} is not one of the choices")
    return raw


def _field(name: str, raw: str, datasets: Collection[str]) -> Any:
    f = _FIELDS[name]
    meta = f.metadata
    default = f.default
    if name == "dataset":
        return _choice(name, raw, datasets)
    if isinstance(default, tuple):
        items = [s for s in raw.split(",") if s] if raw else []
        if len(items) > MAX_HIDDEN_LAYERS:
            raise _Bad(f"{name} has more than {MAX_HIDDEN_LAYERS} layers")
        if name == "hidden_sizes":
            return tuple(int(_number(name, s, meta, int)) for s in items)
        return tuple(_choice(name, s, meta["choices"]) for s in items)
    if isinstance(default, str):
        return _choice(name, raw, meta["choices"])
    return _number(name, raw, meta, type(default))


def _training(base: TrainConfig, diff: str) -> TrainConfig:
    changes = {}
    for part in diff.split(","):
        key, _, raw = part.partition("=")
        if key not in TRAINING_FIELDS:
            raise _Bad(f"{key!r} is not a training setting")
        changes[key] = _field(key, raw, ())
    return replace(base, **changes)


def _event(base: TrainConfig, text: str) -> Event:
    head, _, diff = text.partition("~")
    if head == "F" or (head.isascii() and head.isdigit()):
        config = _training(base, diff) if diff else base
        if head == "F":
            return FastEpoch(config)
        if not 0 < int(head) <= 10_000_000:
            raise _Bad(f"trail item {text!r} has an impossible phase count")
        return Phases(int(head), config)
    where, _, raw = text.partition("=")
    try:
        value = float(raw)
        numbers = [int(s) for s in where[1:].split(".")]
    except ValueError:
        raise _Bad(f"trail item {text!r} is malformed") from None
    if not math.isfinite(value) or any(n < 0 for n in numbers):
        raise _Bad(f"trail item {text!r} is out of range")
    if where[:1] == "W" and len(numbers) == 3:
        return Edit(numbers[0], numbers[1], numbers[2], value)
    if where[:1] == "B" and len(numbers) == 2:
        return Edit(numbers[0], None, numbers[1], value)
    raise _Bad(f"trail item {text!r} is malformed")


def from_query(query: Mapping[str, str | list[str]], datasets: Collection[str]) -> Link:
    """Settings and trail from query parameters; ``datasets`` are the dataset keys this
    machine can load. Never raises: what cannot be used is named in ``warnings``."""
    warnings: list[str] = []
    values: dict[str, Any] = {}
    unknown: list[str] = []
    for key, raw_value in query.items():
        raw = raw_value[-1] if isinstance(raw_value, list) else raw_value
        if key == TRAIL_KEY:
            continue
        if key not in _FIELDS:
            unknown.append(key)
            continue
        if len(raw) > MAX_VALUE_CHARS:
            warnings.append(f"Ignored {key}: its value is {len(raw):,} characters long.")
            continue
        try:
            values[key] = _field(key, raw, datasets)
        except _Bad as exc:
            warnings.append(f"Ignored {exc}; using the default.")
    if unknown:
        warnings.append(_unknown_text(unknown))
    sizes = values.get("hidden_sizes", Settings.hidden_sizes)
    acts = values.get("hidden_activations", Settings.hidden_activations)
    if len(sizes) != len(acts):
        warnings.append("The link's layer sizes and activations do not match; using the defaults.")
        values.pop("hidden_sizes", None)
        values.pop("hidden_activations", None)
    settings = Settings(**values)
    trail = read_trail(settings.train_config(), query.get(TRAIL_KEY), warnings)
    return Link(settings, trail, tuple(warnings))


def _unknown_text(keys: list[str]) -> str:
    """One warning for every unknown key, however many a crafted link holds."""
    names = ", ".join(repr(k[:40]) for k in keys[:SHOWN_UNKNOWN])
    more = f" and {len(keys) - SHOWN_UNKNOWN:,} more" if len(keys) > SHOWN_UNKNOWN else ""
    if len(keys) == 1:
        return f"Ignored the unknown link parameter {names}."
    return f"Ignored {len(keys):,} unknown link parameters: {names}{more}."


def read_trail(
    base: TrainConfig, raw_value: str | list[str] | None, warnings: list[str]
) -> tuple[Event, ...]:
    """The trail of a link's ``trail`` value, its training settings read as changes from
    ``base``; () with a warning added to ``warnings`` when it cannot be used."""
    if raw_value is None:
        return ()
    raw = raw_value[-1] if isinstance(raw_value, list) else raw_value
    items = [t for t in raw.split(";") if t]
    if len(raw) > MAX_VALUE_CHARS * 10 or len(items) > MAX_TRAIL_ITEMS:
        warnings.append(
            "Ignored the link's training trail: it is too long. The network starts fresh."
        )
        return ()
    try:
        return tuple(_event(base, item) for item in items)
    except _Bad as exc:
        warnings.append(f"Ignored the link's training trail ({exc}). The network starts fresh.")
        return ()
