"""What every page does first: open a shared link (once per session), draw the sidebar, sync
the user's run, keep the address bar's link up to date, and follow a pending page switch.

Other pages hand a network to the Explorer with ``open_in_explorer`` from a button's
``on_click`` callback: callbacks run before any widget of the next run exists, so the sidebar's
widgets can still be set to the new settings; the page switch happens at the top of the next run.
A new network is built with ``prepare_run`` and swapped in with ``commit_run``, through
``explorer.ui.guard``: a link, file or lesson that fails leaves the user's network as it was.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from explorer.data import DataError, Dataset, available_datasets
from explorer.engine import (
    Event,
    NonFiniteError,
    Params,
    ReplayError,
    SpecError,
    replay,
    replayable,
)
from explorer.state.settings import Settings, heads_for
from explorer.state.share import from_query, to_query
from explorer.ui import keys
from explorer.ui.datasets import dataset_for
from explorer.ui.guard import Commit, guard, plain, show_refusal
from explorer.ui.presenter import presenter_switch
from explorer.ui.session import Metrics, Run, build, sync
from explorer.ui.sidebar import apply, settings_sidebar

EXPLORER_PAGE = "app_pages/explorer.py"


def setup() -> Run:
    """Sidebar + the user's run and its notice; opens a link on a session's first run."""
    goto = st.session_state.pop(keys.GOTO_PAGE, None)
    if goto is not None:
        st.switch_page(goto)
    if not st.session_state.get(keys.LINK_READ):
        st.session_state[keys.LINK_READ] = True
        if st.query_params:
            guard(keys.LINK, _open_link)
    show_refusal(keys.LINK)
    show_refusal(keys.OPEN_IN_EXPLORER)
    warnings = st.session_state.pop(keys.LINK_WARNINGS, [])
    if warnings:
        st.warning("\n\n".join(plain(w) for w in warnings))
    presenter_switch()
    settings, dataset = settings_sidebar()
    run = sync(settings, dataset)
    if run.notice:  # what happened to the network (rebuilt, opened, loaded), on any page
        st.toast(run.notice)
        run.notice = None
    write_link(run)
    return run


def prepare_run(
    settings: Settings,
    dataset: Dataset,
    *,
    params: Params | None = None,
    trail: tuple[Event, ...] = (),
    at: tuple[int, int, int] = (0, 0, 0),
) -> Run:
    """A run of (settings, dataset), from ``params`` (trained to ``at``: epoch, step, position)
    or replaying ``trail``, built off to the side: nothing the user sees changes until
    ``commit_run``."""
    if params is not None and not params.is_finite():
        raise SpecError(
            "These parameters hold NaN or infinite values; the network cannot use them."
        )
    run = build(settings, dataset, params, at=at)
    if trail:
        replay(run.stepper, trail)
        run.record()
    return run


def commit_run(run: Run) -> None:
    """Make ``run`` the user's network and set the sidebar to match. Call it before the
    sidebar is drawn (or from a callback)."""
    apply(run.settings)
    st.session_state[keys.RUN] = run


def open_in_explorer(
    settings: Settings,
    dataset: Dataset,
    params: Params | None = None,
    *,
    trail: tuple[Event, ...] = (),
    at: tuple[int, int, int] = (0, 0, 0),
    figures: tuple[Metrics, str] | None = None,
    note: str = "",
) -> None:
    """Make the network the user's and go to the Explorer, through the guard (a refusal is
    shown on the page the button is on). ``figures``: its loss and accuracy as the page that
    trained it evaluated them, and that page's name. Call it from an ``on_click`` callback."""

    def prepare() -> Commit:
        run = prepare_run(settings, dataset, params=params, trail=trail, at=at)
        if figures is not None:
            run.take_figures(*figures)
        run.notice = note or "Opened in the Explorer."

        def commit() -> None:
            commit_run(run)
            st.session_state[keys.GOTO_PAGE] = EXPLORER_PAGE

        return commit

    guard(keys.OPEN_IN_EXPLORER, prepare)


def go_to(page: str) -> None:
    """Switch to ``page`` (a path under app_pages/) at the top of the next run; for callbacks,
    where ``st.switch_page`` cannot be called."""
    st.session_state[keys.GOTO_PAGE] = page


def _open_link() -> Commit:
    link = from_query(st.query_params.to_dict(), available_datasets())
    warnings = list(link.warnings)
    settings = link.settings
    try:
        dataset = dataset_for(settings)
    except DataError as exc:
        raise DataError(f"Could not open the shared link: {exc}") from None
    if settings.head not in heads_for(dataset):
        warnings.append(f"The link's output {settings.head!r} does not fit this dataset.")
        settings = replace(settings, head=heads_for(dataset)[0])
    run = prepare_run(settings, dataset)
    try:
        replay(run.stepper, link.trail)
    except (ReplayError, SpecError, NonFiniteError) as exc:
        warnings.append(f"Could not replay the link's training: {exc} It starts untrained.")
        run = prepare_run(settings, dataset)  # whatever part of the trail ran is undone
    run.record()
    run.notice = (
        "Opened the shared link, except what the warnings name."
        if warnings
        else "Opened the shared link: same network, same step."
    )
    if warnings:  # what was restored first, then each part that was not
        warnings.insert(0, f"{_restored(run)} Not restored, the defaults in their place:")

    def commit() -> None:
        commit_run(run)
        st.session_state[keys.LINK_WARNINGS] = warnings

    return commit


def _restored(run: Run) -> str:
    s = run.stepper.state
    where = f"at step {s.step:,} of its training" if s.trail else "untrained"
    return f"Restored from the link: {run.spec.describe()} on {run.dataset.name}, {where}."


def unlinkable(run: Run) -> str | None:
    """Why no link can carry this network, or None when the address bar holds its link."""
    if run.settings.dataset not in available_datasets():
        return "its dataset was uploaded"
    if not replayable(run.stepper.state.trail):
        return "its weights came from outside the Explorer (Full training, Compare or a file)"
    return None


def write_link(run: Run) -> None:
    """Keep the address bar a link to this network at this point; where no link can carry
    it (see ``unlinkable``) empty the address bar rather than leave a link to another one."""
    if unlinkable(run) is not None:
        if st.query_params:
            st.query_params.clear()
        return
    query = to_query(run.settings, run.stepper.state.trail)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
