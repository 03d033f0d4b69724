"""The load client (bench/loadclient.py) against the real app on a free loopback port: sessions
on the lesson's network step and stay apart, a dropped connection gets its session back, and
behind nginx with two app processes (deploy/serve.py) every browser sticks to its process.
The benchmark built on it is bench/load.py; these only prove the client and the deployment.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

import load  # bench/load.py
from loadclient import Session

BATCH = 32
T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps an event
    loop running in the main thread for the rest of the test session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario).result()


@pytest.fixture(scope="module")
def server() -> Iterator[load.Server]:
    with load.Server() as running:
        yield running


def test_sessions_step_apart_and_a_dropped_one_comes_back(server: load.Server) -> None:
    async def scenario() -> None:
        warm = await load.warm_up(server, BATCH)  # the first session loads the dataset
        seeds = [1, 2, 1]
        sessions = await load.open_lesson(server.url, seeds, BATCH)
        for _ in range(3):
            latencies = await asyncio.gather(*(s.click("b_step") for s in sessions))
            assert all(0 < t < 60 for t in latencies)
        assert [load.step_of(s.page) for s in sessions] == [3, 3, 3]
        apart = await load.isolation(sessions, seeds)
        assert apart == {
            "step": 3,
            "seeds": 2,
            "networks": 2,
            "same_seed_same_network": True,
            "ok": True,
        }
        await sessions[1].reconnect()
        assert load.step_of(sessions[1].page) == 3
        await load.close_all([*sessions, *warm])

    run(scenario())


def test_sessions_arriving_at_a_fresh_server() -> None:
    # Failed 7 of 8 before app.py imported pandas whole (bench/RESULTS.md, cold start).
    result = run(load.cold_start(BATCH))
    assert result["failed"] == 0, result


@pytest.mark.skipif(not load.nginx_installed(), reason="nginx is not installed (apt-get nginx)")
def test_sessions_stick_to_their_process_behind_nginx() -> None:
    async def scenario(url: str) -> None:
        sessions = [Session(url) for _ in range(6)]  # each one lands on either process
        for session in sessions:  # one at a time: the processes are fresh
            await session.open()
            await session.click("b_step")
        assert all(s.backend for s in sessions)  # nginx said where it sent each browser
        for session in sessions:
            await session.reconnect()  # by the cookie, to the process that holds the session
            assert load.step_of(session.page) == 1, session.backend
        await load.close_all(sessions)

    with load.Server(2) as server:
        run(scenario(server.url))
