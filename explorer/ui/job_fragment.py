"""One timed fragment for a job that works in chunks between reruns (Training views' N
epochs, Full training, the Generalisation page's training and its check, the Why GPUs race),
so that a page can show progress and offer Stop while it runs: each tick advances the job by
about CHUNK_SECONDS and shows it; when it stops (done, stopped or failed) the whole page reruns
once, which redraws its buttons and ends the timer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import streamlit as st

TICK_SECONDS = 0.1  # between two chunks while the job runs
CHUNK_SECONDS = 0.4  # of work per chunk


class ChunkedJob(Protocol):
    @property
    def running(self) -> bool: ...

    def advance(self, seconds: float) -> Any: ...


def job_fragment(
    key: str, show: Callable[[Any], None], idle: str | Callable[[], None] | None = None
) -> None:
    """The job under session ``key``, drawn by ``show`` and advanced on a timer while it runs;
    ``idle`` (if given) is said, or drawn, while there is no job."""
    job: ChunkedJob | None = st.session_state.get(key)

    @st.fragment(run_every=TICK_SECONDS if job is not None and job.running else None)
    def body() -> None:
        job: ChunkedJob | None = st.session_state.get(key)
        if job is None:
            if isinstance(idle, str):
                st.info(idle)
            elif idle is not None:
                idle()
            return
        was_running = job.running
        if was_running:
            job.advance(CHUNK_SECONDS)
        if was_running and not job.running:
            st.rerun(scope="app")
        show(job)

    body()
