"""Shareable links for the Convolution page: its builder's choices and its trail in the
address bar, and opening such a link on a session's first run.

The link's fields are ``ConvSettings``' own, read from its dataclass fields (as
``explorer.state.share`` reads ``Settings``'), each written by its type: numbers and names as text,
a tuple of conv blocks as ``filters:kernel:padding:activation:pool`` per block (pool 1 or 0),
dense layers as ``size:activation``. A field missing from a link takes its default, and so
does a block's missing trailing part, so links stay valid when fields are added. Numbers and
names are checked against the Explorer's ``Settings`` table where the name is one of its
fields (learning rate, batch size, seed, optimizer, ...), and a slider's value against what
the builder offers (``_OFFERED``); a field of no known range is left
out of links (a test asserts every field has one). ``net=cnn`` marks a CNN link; the trail
is ``explorer.state.share``'s text, its training settings read as changes from the link's own.
Reading never raises: what cannot be used is named in the warnings and takes its default.

Opening replays the trail (``explorer.engine.conv.replay``, budgeted before any work) on a
network built off to the side, through ``explorer.ui.guard``: a link that cannot be opened at
all leaves the default network and one message.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from typing import Any, get_args, get_type_hints

import streamlit as st

from explorer.data import available_datasets
from explorer.engine import LayerSpec, NonFiniteError, ReplayError, SpecError
from explorer.engine.conv import ConvBlockSpec
from explorer.engine.conv.replay import replay_conv
from explorer.engine.conv.spec import MAX_BLOCKS, MAX_DENSE
from explorer.engine.trail import Event, replayable
from explorer.state.settings import Settings
from explorer.state.share import MAX_VALUE_CHARS, TRAIL_KEY, read_trail, trail_text
from explorer.ui import keys
from explorer.ui.conv_session import ConvRun, ConvSettings, build_conv, image_datasets
from explorer.ui.guard import Commit, guard, plain, show_refusal
from explorer.ui.sidebar import RATES

NET_KEY, NET = "net", "cnn"
_SETTING_LIMITS = {f.name: dict(f.metadata) for f in fields(Settings)}
_TYPES = get_type_hints(ConvSettings)
_PARTS = {ConvBlockSpec: MAX_BLOCKS, LayerSpec: MAX_DENSE - 1}
# values the builder's sliders offer: any other would be snapped to one of them unseen
_OFFERED = {"learning_rate": RATES}


@dataclass(frozen=True)
class ConvLink:
    """What a CNN link holds: the builder's choices and the trail; ``warnings``: what was
    ignored."""

    settings: ConvSettings
    trail: tuple[Event, ...]
    warnings: tuple[str, ...]


class _Bad(ValueError):
    """One value that cannot be used; the message names it."""


def _item_type(name: str) -> type | None:
    """The element type of a tuple field, None for a scalar."""
    args = get_args(_TYPES[name])
    return args[0] if args and isinstance(args[0], type) else None


def linked_fields() -> tuple[str, ...]:
    """The ConvSettings fields a link carries: those it can check when reading them."""
    out = []
    for f in fields(ConvSettings):
        item = _item_type(f.name)
        if f.name == "dataset" or item in _PARTS or f.name in _SETTING_LIMITS:
            out.append(f.name)
    return tuple(out)


# -- writing ---------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, ConvBlockSpec | LayerSpec):
        return ":".join(_text(getattr(value, f.name)) for f in fields(value))
    if isinstance(value, tuple):
        return ",".join(_text(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def conv_to_query(settings: ConvSettings, trail: tuple[Event, ...] = ()) -> dict[str, str]:
    """Query parameters for ``settings`` and ``trail``; raises ValueError for a trail that
    holds parameters loaded from elsewhere."""
    if not replayable(trail):
        raise ValueError("This network holds parameters loaded from elsewhere.")
    query = {NET_KEY: NET}
    query |= {name: _text(getattr(settings, name)) for name in linked_fields()}
    if trail:
        query[TRAIL_KEY] = trail_text(settings.config(), trail)
    return query


# -- reading ---------------------------------------------------------------------------------
def _scalar(name: str, raw: str, kind: Any, meta: Mapping[str, Any]) -> Any:
    if kind is bool:
        if raw not in ("0", "1"):
            raise _Bad(f"{name} = {raw!r} is not 0 or 1")
        return raw == "1"
    if kind is str:
        if raw not in meta.get("choices", ()):
            raise _Bad(f"{name} = {raw!r} is not one of the choices")
        return raw
    try:
        value = int(raw) if kind is int else float(raw)
    except ValueError:
        raise _Bad(f"{name} = {raw!r} is not a {'whole ' if kind is int else ''}number") from None
    if not math.isfinite(value) or not meta["lo"] <= value <= meta["hi"]:
        raise _Bad(f"{name} = {raw} is outside {meta['lo']}..{meta['hi']}")
    return value


def _part(name: str, raw: str, item: type) -> Any:
    """One conv block or dense layer from its ``:``-separated fields, missing ones default."""
    specs = fields(item)
    values = raw.split(":")
    if len(values) > len(specs):
        raise _Bad(f"{name} item {raw!r} has too many parts")
    kwargs: dict[str, Any] = {}
    for f, text in zip(specs, values, strict=False):
        kind = get_type_hints(item)[f.name]
        if kind is str:
            kwargs[f.name] = text
        elif kind is bool:
            kwargs[f.name] = _scalar(name, text, bool, {})
        else:
            kwargs[f.name] = _scalar(name, text, int, _SETTING_LIMITS["hidden_sizes"])
    try:
        return item(**kwargs)
    except (SpecError, TypeError) as exc:
        raise _Bad(f"{name} item {raw!r}: {exc}") from None


def _field(name: str, raw: str, datasets: Collection[str]) -> Any:
    if name == "dataset":
        return _scalar(name, raw, str, {"choices": datasets})
    item = _item_type(name)
    if item is None:
        value = _scalar(name, raw, _TYPES[name], _SETTING_LIMITS[name])
        if name in _OFFERED and value not in _OFFERED[name]:
            raise _Bad(f"{name} = {raw} is not one the builder offers")
        return value
    items = [s for s in raw.split(",") if s] if raw else []
    if item in _PARTS:
        if len(items) > _PARTS[item]:
            raise _Bad(f"{name} has more than {_PARTS[item]} items")
        return tuple(_part(name, s, item) for s in items)
    meta = _SETTING_LIMITS[name]
    if len(items) > MAX_DENSE:
        raise _Bad(f"{name} has more than {MAX_DENSE} items")
    return tuple(_scalar(name, s, item, meta) for s in items)


def conv_from_query(query: Mapping[str, str | list[str]], datasets: Collection[str]) -> ConvLink:
    """The builder's choices and trail from query parameters; ``datasets``: the image sets
    this machine has. Never raises."""
    warnings: list[str] = []
    values: dict[str, Any] = {}
    known = linked_fields()
    unknown = []
    for key, raw_value in query.items():
        raw = raw_value[-1] if isinstance(raw_value, list) else raw_value
        if key in (NET_KEY, TRAIL_KEY):
            continue
        if key not in known:
            unknown.append(key)
        elif len(raw) > MAX_VALUE_CHARS:
            warnings.append(f"Ignored {key}: its value is {len(raw):,} characters long.")
        else:
            try:
                values[key] = _field(key, raw, datasets)
            except _Bad as exc:
                warnings.append(f"Ignored {exc}; using the default.")
    if unknown:
        names = ", ".join(repr(k[:40]) for k in unknown[:3])
        more = f" and {len(unknown) - 3:,} more" if len(unknown) > 3 else ""
        warnings.append(f"Ignored unknown link parameters: {names}{more}.")
    try:
        settings = ConvSettings(**values)
    except (SpecError, ValueError, TypeError) as exc:
        warnings.append(f"The link's network does not hold together ({exc}); using the defaults.")
        settings = ConvSettings()
    trail = read_trail(settings.config(), query.get(TRAIL_KEY), warnings)
    return ConvLink(settings, trail, tuple(warnings))


# -- the page --------------------------------------------------------------------------------
def is_conv_link(query: Mapping[str, Any]) -> bool:
    value = query.get(NET_KEY)
    return (value[-1] if isinstance(value, list) else value) == NET


def _open() -> Commit:
    link = conv_from_query(st.query_params.to_dict(), image_datasets())
    warnings = list(link.warnings)
    run = build_conv(link.settings)
    try:
        replay_conv(run.stepper, link.trail)
    except (ReplayError, SpecError, NonFiniteError) as exc:
        warnings.append(f"Could not replay the link's training: {exc} It starts untrained.")
        run = build_conv(link.settings)  # whatever part of the trail ran is undone
    if warnings:
        where = f"at step {run.stepper.state.step:,}" if run.stepper.state.trail else "untrained"
        warnings.insert(
            0,
            f"Restored from the link: {run.spec.describe()}, {where}. "
            "Not restored, the defaults in their place:",
        )

    def commit() -> None:
        st.session_state[keys.CONV_RUN] = run
        st.session_state[keys.CONV_LINK_WARNINGS] = warnings

    return commit


def open_conv_link() -> None:
    """On a session's first run of the page, open the CNN link in the address bar (if it
    holds one); then, on every run, show what opening it said."""
    if not st.session_state.get(keys.CONV_LINK_READ):
        st.session_state[keys.CONV_LINK_READ] = True
        if is_conv_link(st.query_params.to_dict()):
            guard(keys.CONV_LINK, _open)
    show_refusal(keys.CONV_LINK)
    warnings = st.session_state.pop(keys.CONV_LINK_WARNINGS, [])
    if warnings:
        st.warning("\n\n".join(plain(w) for w in warnings))


def write_conv_link(run: ConvRun) -> None:
    """Keep the address bar a link to this network at this point; empty it where no link can
    carry the network (its weights came from elsewhere, or its data is not on this machine)."""
    trail = run.stepper.state.trail
    if not replayable(trail) or run.settings.dataset not in available_datasets():
        if st.query_params:
            st.query_params.clear()
        return
    query = conv_to_query(run.settings, trail)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
