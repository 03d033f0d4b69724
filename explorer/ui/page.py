"""What every page does first: open a shared link (once per session), draw the sidebar, sync
the user's run, keep the address bar's link up to date, and follow a pending page switch.

Other pages hand a network to the Explorer with ``open_in_explorer`` from a button's
``on_click`` callback: callbacks run before any widget of the next run exists, so the sidebar's
widgets can still be set to the new settings; the page switch happens at the top of the next run.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from explorer.data import DataError, Dataset, available_datasets
from explorer.engine import Event, NonFiniteError, Params, SpecError, replay, replayable
from explorer.settings import Settings, heads_for
from explorer.share import from_query, to_query
from explorer.ui.datasets import dataset_for
from explorer.ui.presenter import presenter_switch
from explorer.ui.session import KEY, Run, build, sync
from explorer.ui.sidebar import apply, settings_sidebar

EXPLORER_PAGE = "app_pages/explorer.py"
_GOTO = "goto_page"
_LINK_READ = "link_read"


def setup() -> Run:
    """Sidebar + the user's run; opens a link on a session's first run."""
    goto = st.session_state.pop(_GOTO, None)
    if goto is not None:
        st.switch_page(goto)
    if not st.session_state.get(_LINK_READ):
        st.session_state[_LINK_READ] = True
        if st.query_params:
            _open_link()
    for warning in st.session_state.pop("link_warnings", []):
        st.warning(warning)
    presenter_switch()
    settings, dataset = settings_sidebar()
    run = sync(settings, dataset)
    write_link(run)
    return run


def start(
    settings: Settings,
    dataset: Dataset,
    *,
    params: Params | None = None,
    trail: tuple[Event, ...] = (),
) -> Run:
    """Make (settings, dataset) the user's network, from ``params`` or replaying ``trail``,
    and set the sidebar to match. Call it before the sidebar is drawn (or from a callback)."""
    apply(settings)
    run = build(settings, dataset, params)
    if trail:
        replay(run.stepper, trail)
        run.record()
    st.session_state[KEY] = run
    return run


def open_in_explorer(
    settings: Settings,
    dataset: Dataset,
    params: Params | None = None,
    *,
    trail: tuple[Event, ...] = (),
    note: str = "",
) -> None:
    """``start`` the network and go to the Explorer. Call it from an ``on_click`` callback."""
    run = start(settings, dataset, params=params, trail=trail)
    run.notice = note or "Opened in the Explorer."
    st.session_state[_GOTO] = EXPLORER_PAGE


def _open_link() -> None:
    link = from_query(st.query_params.to_dict(), available_datasets())
    warnings = list(link.warnings)
    settings = link.settings
    try:
        dataset = dataset_for(settings)
        if settings.head not in heads_for(dataset):
            warnings.append(f"The link's output {settings.head!r} does not fit this dataset.")
            settings = replace(settings, head=heads_for(dataset)[0])
        run = start(settings, dataset)
        try:
            replay(run.stepper, link.trail)
        except (ValueError, SpecError, NonFiniteError) as exc:
            warnings.append(f"Could not replay the link's training ({exc}); it starts fresh.")
        run.record()
        run.notice = "Opened the shared link: same network, same step."
    except (DataError, SpecError) as exc:
        warnings.append(f"Could not open the shared link ({exc}).")
    st.session_state["link_warnings"] = warnings


def write_link(run: Run) -> None:
    """Keep the address bar a link to this network at this point (when it can be one)."""
    trail = run.stepper.state.trail
    if run.settings.dataset not in available_datasets() or not replayable(trail):
        return
    query = to_query(run.settings, trail)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
