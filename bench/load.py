"""Many sessions at once: simulated users pressing "Complete step" on the real app, each over
Streamlit's own websocket protocol (bench/loadclient.py), on the lesson's network,
784-16-16-10 on the MNIST sample (ReLU, batch 32), every session with its own seed.

Each phase runs against a fresh server on a free loopback port:

1. cold start: ``COLD_SESSIONS`` sessions open at once on a server nobody has used yet.
2. levels (``--sessions``: 10, 20, 30): after one warm session (the memory base), every
   session presses Step every ``--interval`` s (2 s), starts staggered over one interval, for
   ``--duration`` s. Reported: p50/p95/max of the time from sending the click to
   ``script_finished``, steps per second, the server's CPU per step, its memory (RSS) per
   extra session and after the sessions closed. Then isolation: every session is brought to
   the same step; different seeds must show different networks (the graph draws every
   weight) and the last session, which shares the first one's seed, exactly the same one.
   The largest level then runs a second wave of sessions, to see closed sessions' memory
   reused rather than added to.
3. browsers alongside: 3 chromium tabs (Playwright, Debian's chromium) step through the
   sidebar and buttons next to 10 protocol sessions, to compare what a browser sees (click
   to the new step on screen) with the protocol's latency.
4. crossing: more sessions (``--ramp``), or fewer, then bisection, to where p95 passes 1 s.
5. history: one session stepping ``--history-steps`` times: its memory as the 200-state
   step-back history fills. Then ``--history-sessions`` sessions at once, each pressing Step
   ``--history-session-steps`` times (200) without pause, all in step, then Back
   ``--history-backs`` times: the server's RSS per session as their histories fill, and each
   session's step after stepping back. With ``--baseline PATH`` (a checkout of older code,
   e.g. ``git worktree add /tmp/old e79e9f1``) both history measurements also run against a
   server started from that tree, in the same run, for a before/after ratio.
6. scale-out, at the crossing and flat out (``--scale-sessions`` pressing without pause):
   one process as ``make run`` starts it; one process and ``--processes`` processes behind
   nginx, as deploy/serve.py runs them (with its per-process settings).

A closed tab's session is kept for a reconnect for server.disconnectedSessionTTL seconds
(120 by default, SESSION_TTL here) and dropped when the session store is next written to,
so after closing, the bench waits out the TTL and opens and closes one more session before it
reads the memory. The client runs on the same machine as the server; its CPU share and the
load average are reported too. Prints tables and one JSON line; takes about 10 minutes
(``--quick``: about four), plus the history sessions' phase (10 sessions x 200 steps: about
3 minutes per tree on 2 cores, where 30 sessions did 12-16 steps/s in all, so 30 x 200 takes
about 9). ``--phases`` runs only some phases (e.g. ``--phases history``). Not part of the test
run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))  # local_server
from loadclient import Page, Session, SessionError
from local_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    app_command,
    free_port,
    wait_healthy,
)

from explorer.data import available_datasets

LESSON = "784-16-16-10"
SESSION_TTL = 3  # seconds a closed session is kept for a reconnect
COLD_SESSIONS = 8
P95_TARGET_MS = 500.0
MIB_TARGET = 40.0
CROSSING_MS = 1000.0
HISTORY_MIB_TARGET = 15.0  # per session after 200 steps, over one warm session
START_TIMEOUT = 90.0
PHASES = ("cold", "levels", "browsers", "crossing", "history", "scale")


def lesson_widgets(seed: int, batch: int) -> dict[str, Any]:
    """The sidebar settings of the lesson's network, by widget key."""
    return {
        "w_dataset": available_datasets()["mnist-sample"],
        "w_size_0": 16,
        "w_size_1": 16,
        "w_act_0": "relu",
        "w_act_1": "relu",
        "w_batch_size": batch,
        "w_seed": seed,
    }


def architecture(page: Page) -> str:
    """Layer sizes as the graph's column titles give them, e.g. 784-16-16-10."""
    data = json.loads(page.charts["graph"])["data"]
    titles = next((t["text"] for t in data if t and t.get("name") == "labels"), [])
    return "-".join(m[1] for t in titles if (m := re.search(r"<br>(\d+)", t)))


def step_of(page: Page) -> int:
    """The step number the status caption shows."""
    for text in page.texts:
        if m := re.match(r"Epoch \d+ · step (\d+)", text):
            return int(m[1])
    raise SessionError("no status caption on the page")


# -- the server ---------------------------------------------------------------------------
def nginx_installed() -> bool:
    return (
        shutil.which("nginx", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin")
        is not None
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """The app on a free loopback port: ``streamlit run`` as ``make run`` starts it, or (with
    ``nginx``) deploy/serve.py with ``processes`` app processes behind nginx. Logs go to a
    temporary folder that is removed afterwards. ``root``: the checkout the app runs from
    (this one by default; another one first on PYTHONPATH, from its own folder)."""

    def __init__(self, processes: int = 1, *, nginx: bool = False, root: Path = ROOT) -> None:
        self.processes = processes
        self.nginx = nginx or processes > 1
        self.root = root.resolve()
        self.port = free_port()
        self.run_dir = Path(tempfile.mkdtemp(prefix="bpx-load-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.app_pids: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def name(self) -> str:
        return f"{self.processes} behind nginx" if self.nginx else "1 direct"

    def __enter__(self) -> Server:
        options = ["--server.disconnectedSessionTTL", str(SESSION_TTL)]
        env = None
        if self.root != ROOT:
            env = {**os.environ, "PYTHONPATH": str(self.root)}
        if self.nginx:
            serve = [sys.executable, str(self.root / "deploy" / "serve.py"), "--host", "127.0.0.1"]
            cmd = [
                *serve,
                *("--processes", str(self.processes), "--port", str(self.port)),
                *("--app-port", str(free_port()), "--run-dir", str(self.run_dir), "--"),
                *options,
            ]
        else:
            cmd = app_command(self.port, options)
            cmd[cmd.index(str(ROOT / "app.py"))] = str(self.root / "app.py")
        with open(self.run_dir / "server.log", "ab") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_healthy(self.url, self.proc, time.monotonic() + START_TIMEOUT)
        except RuntimeError as exc:
            tail = (self.run_dir / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{exc}:\n{tail}") from exc
        self.app_pids = (
            [pid for pid in _children(self.proc.pid) if b"streamlit" in _cmdline(pid)]
            if self.nginx
            else [self.proc.pid]
        )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def rss_mib(self) -> float:
        """Resident memory of the app processes together, in MiB."""
        return sum(_rss_mib(pid) for pid in self.app_pids)

    def cpu_s(self) -> float:
        """CPU seconds the app processes have used so far."""
        return sum(_cpu_s(pid) for pid in self.app_pids)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


# -- sessions -----------------------------------------------------------------------------
async def open_lesson(
    url: str, seeds: Sequence[int], batch: int, *, at_once: int = 4
) -> list[Session]:
    """One session per seed, each set to the lesson's network; ``at_once`` open together."""
    gate = asyncio.Semaphore(at_once)

    async def one(seed: int) -> Session:
        async with gate:
            session = Session(url)
            await session.open()
            await session.set_widgets(lesson_widgets(seed, batch))
            if architecture(session.page) != LESSON:
                raise SessionError(f"built {architecture(session.page)}, not {LESSON}")
            return session

    return list(await asyncio.gather(*(one(seed) for seed in seeds)))


async def close_all(sessions: Sequence[Session]) -> None:
    await asyncio.gather(*(s.close() for s in sessions))


async def drive(
    sessions: Sequence[Session], interval: float, duration: float
) -> tuple[list[float], float, list[str]]:
    """Every session presses Step every ``interval`` s (at once when it is late; without
    pause for 0), starts staggered over one interval, for ``duration`` s. Returns the
    latencies, the elapsed time and the errors."""
    latencies: list[float] = []
    errors: list[str] = []
    t0 = time.perf_counter()

    async def user(i: int, session: Session) -> None:
        start = t0 + i * interval / len(sessions)
        k = 0
        while max(due := start + k * interval, time.perf_counter()) < t0 + duration:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                latencies.append(await session.click("b_step"))
            except SessionError as exc:
                errors.append(str(exc))
                return
            k += 1

    await asyncio.gather(*(user(i, s) for i, s in enumerate(sessions)))
    return latencies, time.perf_counter() - t0, errors


async def isolation(sessions: Sequence[Session], seeds: Sequence[int]) -> dict[str, Any]:
    """Bring every session to the same step, then compare their networks: one network per
    seed, and for one seed, one network."""
    target = max(step_of(s.page) for s in sessions)

    async def catch_up(session: Session) -> None:
        while step_of(session.page) < target:
            await session.click("b_step")

    await asyncio.gather(*(catch_up(s) for s in sessions))
    networks: dict[int, set[str]] = {}
    for seed, session in zip(seeds, sessions, strict=True):
        networks.setdefault(seed, set()).add(session.page.charts["graph"])
    distinct = len({net for nets in networks.values() for net in nets})
    same_seed_same = all(len(nets) == 1 for nets in networks.values())
    return {
        "step": target,
        "seeds": len(networks),
        "networks": distinct,
        "same_seed_same_network": same_seed_same,
        "ok": same_seed_same and distinct == len(networks),
    }


async def warm_up(server: Server, batch: int) -> list[Session]:
    """One lesson session on every app process (each loads the dataset); kept open."""
    warm: list[Session] = []
    backends: set[str | None] = set()
    for seed in range(20 * server.processes):
        if len(backends) == server.processes:
            break
        session = (await open_lesson(server.url, [10_000 + seed], batch))[0]
        if session.backend in backends:
            await session.close()
        else:
            backends.add(session.backend)
            warm.append(session)
    return warm


async def settle_closed(url: str) -> None:
    """Wait out the reconnect TTL, then open and close one session: writing to the session
    store drops the expired ones."""
    await asyncio.sleep(SESSION_TTL + 1)
    session = Session(url)
    await session.open()
    await session.close()
    await asyncio.sleep(2)


async def cold_start(batch: int) -> dict[str, Any]:
    """COLD_SESSIONS users arriving together at a server nobody has used yet."""
    with Server() as server:

        async def one(seed: int) -> str | None:
            session = Session(server.url)
            try:
                await session.open()
                await session.set_widgets(lesson_widgets(seed, batch))
                return None
            except SessionError as exc:
                return str(exc)
            finally:
                await session.close()

        errors = [e for e in await asyncio.gather(*map(one, range(COLD_SESSIONS))) if e]
    return {"sessions": COLD_SESSIONS, "failed": len(errors), "first_error": errors[:1]}


# -- real browsers alongside -----------------------------------------------------------------
STATUS = re.compile(r"Epoch \d+ · step \d+")
# The graph's column titles in the page, e.g. "input<br>784 (28×28)|layer 1 · relu<br>16|...";
# empty while a rerun has no graph drawn yet (a throwing predicate would end the wait).
GRAPH_TITLES = (
    "() => (document.querySelector('.js-plotly-plot')"
    "?._fullData?.find(d => d.name === 'labels')?.text ?? []).join('|')"
)


async def lesson_tab(browser: Any, url: str, batch: int) -> Any:
    """A chromium tab on the app, set to the lesson's network through the sidebar widgets,
    one change at a time, each awaited on the graph's column titles."""
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(120_000)
    page = await context.new_page()
    await page.goto(url)
    status = page.get_by_text(STATUS)
    await expect(status).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")

    async def graph_shows(text: str) -> None:
        await page.wait_for_function(f"() => ({GRAPH_TITLES})().includes({json.dumps(text)})")

    async def choose(label: str, option: str | re.Pattern[str]) -> None:
        await sidebar.get_by_role("combobox", name=re.compile(label)).click()
        await page.get_by_role("option", name=option, exact=isinstance(option, str)).click()

    async def type_in(label: str, value: int) -> None:
        box = sidebar.get_by_label(label, exact=True)
        await box.fill(str(value))
        await box.press("Enter")

    await type_in("Batch size", batch)  # first: it takes effect at the next batch
    await choose("Dataset", re.compile("MNIST sample"))
    await graph_shows("input<br>784")
    await type_in("Units 1", 16)
    await graph_shows("layer 1 · tanh<br>16")
    await type_in("Units 2", 16)
    await graph_shows("layer 2 · tanh<br>16")
    await choose("Activation 1", "relu")
    await graph_shows("layer 1 · relu<br>16")
    await choose("Activation 2", "relu")
    await graph_shows("layer 2 · relu<br>16|output · softmax<br>10")
    await expect(status).to_contain_text(f"batch of {batch}")
    return page


async def browsers_alongside(
    n_protocol: int, n_tabs: int, interval: float, duration: float, batch: int
) -> dict[str, Any]:
    """``n_tabs`` chromium tabs press Step alongside ``n_protocol`` protocol sessions at the
    same pace: the latency a browser sees (click to the new step on screen) next to the
    protocol's (click to script_finished)."""
    try:
        from playwright.async_api import Error
    except ImportError:
        return {"skipped": "playwright is not installed"}
    if not CHROMIUM.exists():
        return {"skipped": "Debian's chromium is not installed"}
    try:
        return await _browsers_alongside(n_protocol, n_tabs, interval, duration, batch)
    except (Error, AssertionError) as exc:  # the page changed under the tab's locators
        return {"skipped": f"a tab could not step: {str(exc).splitlines()[0]}"}


async def _browsers_alongside(
    n_protocol: int, n_tabs: int, interval: float, duration: float, batch: int
) -> dict[str, Any]:
    from playwright.async_api import async_playwright, expect

    with Server() as server:
        warm = await warm_up(server, batch)
        sessions = await open_lesson(server.url, range(1, n_protocol + 1), batch)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            tabs = [await lesson_tab(browser, server.url, batch) for _ in range(n_tabs)]
            tab_latencies: list[float] = []
            t0 = time.perf_counter()

            async def tab_user(i: int, page: Any) -> None:
                start = t0 + (i + 0.5) * interval / n_tabs
                k = 0
                while max(due := start + k * interval, time.perf_counter()) < t0 + duration:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    clicked = time.perf_counter()
                    await page.get_by_role("button", name="Complete step").click()
                    await expect(page.get_by_text(STATUS)).to_contain_text(f"· step {k + 1} ·")
                    tab_latencies.append(time.perf_counter() - clicked)
                    k += 1

            protocol_run = asyncio.ensure_future(drive(sessions, interval, duration))
            await asyncio.gather(*(tab_user(i, tab) for i, tab in enumerate(tabs)))
            protocol, _, errors = await protocol_run
            await browser.close()
        await close_all([*sessions, *warm])

    def summary(values: Sequence[float]) -> dict[str, float]:
        return {
            "steps": len(values),
            "p50_ms": 1000 * statistics.median(values),
            "p95_ms": 1000 * percentile(values, 95),
        }

    return {
        "protocol_sessions": n_protocol,
        "browser_tabs": n_tabs,
        "protocol": summary(protocol),
        "browser": summary(tab_latencies),
        "errors": errors,
    }


# -- one load level -------------------------------------------------------------------------
@dataclass
class Level:
    """One load level's figures; memory in MiB, times in ms."""

    server: str
    sessions: int
    interval_s: float
    steps: int
    steps_per_s: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    server_cpu_ms_per_step: float
    kib_per_step: float
    client_cpu_share: float
    rss_base_mib: float
    rss_loaded_mib: float
    mib_per_session: float
    rss_closed_mib: float | None = None
    wave2_mib_per_session: float | None = None
    isolation: dict[str, Any] | None = None
    backends: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    loadavg: float = 0.0


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile (1..99), interpolated between the nearest values."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def level(
    server: Server,
    n: int,
    interval: float,
    duration: float,
    batch: int,
    *,
    checks: bool = False,
    wave2: bool = False,
) -> Level:
    """One load level; ``checks`` adds isolation and the memory after closing, ``wave2`` a
    second wave of sessions after that."""
    loadavg = os.getloadavg()[0]
    warm = await warm_up(server, batch)
    base = server.rss_mib()
    seeds = [*range(1, n), 1] if n > 1 else [1]  # the last session repeats the first seed
    sessions = await open_lesson(server.url, seeds, batch)
    cpu0, client0 = server.cpu_s(), time.process_time()
    received0 = sum(s.bytes_received for s in sessions)
    latencies, elapsed, errors = await drive(sessions, interval, duration)
    cpu, client = server.cpu_s() - cpu0, time.process_time() - client0
    received = sum(s.bytes_received for s in sessions) - received0
    loaded = server.rss_mib()
    result = Level(
        server=server.name,
        sessions=n,
        interval_s=interval,
        steps=len(latencies),
        steps_per_s=len(latencies) / elapsed,
        p50_ms=1000 * statistics.median(latencies),
        p95_ms=1000 * percentile(latencies, 95),
        max_ms=1000 * max(latencies),
        server_cpu_ms_per_step=1000 * cpu / len(latencies),
        kib_per_step=received / 1024 / len(latencies),
        client_cpu_share=client / elapsed,
        rss_base_mib=base,
        rss_loaded_mib=loaded,
        mib_per_session=(loaded - base) / n,
        backends=dict(Counter(s.backend or "direct" for s in sessions)),
        errors=errors,
        loadavg=loadavg,
    )
    if checks:
        result.isolation = await isolation(sessions, seeds)
    await close_all(sessions)
    if checks:
        await settle_closed(server.url)
        result.rss_closed_mib = server.rss_mib()
    if wave2:
        before = server.rss_mib()
        again = await open_lesson(server.url, seeds, batch)
        await drive(again, interval, duration)
        result.wave2_mib_per_session = (server.rss_mib() - before) / n
        await close_all(again)
    await close_all(warm)
    return result


async def history(
    steps: int, batch: int, every: int = 50, root: Path = ROOT
) -> list[tuple[int, float]]:
    """(steps taken, server RSS in MiB) for one session stepping without pause."""
    with Server(root=root) as server:
        session = (await open_lesson(server.url, [1], batch))[0]
        points = [(0, server.rss_mib())]
        for k in range(1, steps + 1):
            await session.click("b_step")
            if k % every == 0:
                points.append((k, server.rss_mib()))
        await session.close()
    return points


async def history_sessions(
    n: int, steps: int, backs: int, batch: int, every: int = 50, root: Path = ROOT
) -> dict[str, Any]:
    """``n`` sessions at once, each pressing Step ``steps`` times without pause (all of them
    ``every`` steps, then the server's RSS, and so on), then Back ``backs`` times: RSS per
    session over the base of one warm session, as the step-back histories fill."""
    loadavg = os.getloadavg()[0]
    errors: list[str] = []

    async def press(key: str, times: int) -> None:
        async def user(session: Session) -> None:
            for _ in range(times):
                try:
                    await session.click(key)
                except SessionError as exc:
                    errors.append(str(exc))
                    return

        await asyncio.gather(*(user(s) for s in sessions))

    with Server(root=root) as server:
        warm = await warm_up(server, batch)
        base = server.rss_mib()
        sessions = await open_lesson(server.url, range(1, n + 1), batch)
        points = [(0, server.rss_mib())]
        t0 = time.perf_counter()
        while points[-1][0] < steps:
            chunk = min(every, steps - points[-1][0])
            await press("b_step", chunk)
            points.append((points[-1][0] + chunk, server.rss_mib()))
        elapsed = time.perf_counter() - t0
        shown = Counter(step_of(s.page) for s in sessions)
        await press("b_back", backs)
        backed = server.rss_mib()
        shown_back = Counter(step_of(s.page) for s in sessions)
        await close_all([*sessions, *warm])
    return {
        "tree": str(root),
        "sessions": n,
        "steps": steps,
        "backs": backs,
        "rss_base_mib": base,
        "rss_mib": points,
        "mib_per_session": [(k, (mib - base) / n) for k, mib in points],
        "mib_per_session_after_backs": (backed - base) / n,
        "steps_per_s": n * steps / elapsed,
        "steps_shown": dict(shown),
        "steps_shown_after_backs": dict(shown_back),
        "ok": shown == Counter({steps: n}) and shown_back == Counter({steps - backs: n}),
        "errors": errors,
        "loadavg": loadavg,
    }


def history_table(runs: Sequence[dict[str, Any]]) -> str:
    """MiB per session over the base at each sampled step count, one row per tree."""
    marks = [k for k, _ in runs[0]["mib_per_session"]]
    lines = [
        f"{'tree':<24} {'sess':>4} "
        + " ".join(f"{f'{k} steps':>9}" for k in marks)
        + f" {'+' + str(runs[0]['backs']) + ' back':>9} {'steps/s':>7} {'load':>4} {'ok':>3}"
    ]
    for r in runs:
        lines.append(
            f"{r['tree'][-24:]:<24} {r['sessions']:>4} "
            + " ".join(f"{mib:>9.1f}" for _, mib in r["mib_per_session"])
            + f" {r['mib_per_session_after_backs']:>9.1f} {r['steps_per_s']:>7.1f}"
            f" {r['loadavg']:>4.1f} {'yes' if r['ok'] else 'NO':>3}"
        )
    return "\n".join(lines)


async def crossing(
    known: list[Level], ramp: Sequence[int], measure: Callable[[int], Awaitable[Level]]
) -> list[Level]:
    """Levels added until p95 passes 1 s (up the ``ramp``, or halving when the smallest known
    level is already over), then bisected to 5 sessions."""
    added: list[Level] = []

    def bounds() -> tuple[int | None, int | None]:
        levels = known + added
        below = [r.sessions for r in levels if r.p95_ms <= CROSSING_MS]
        above = [r.sessions for r in levels if r.p95_ms > CROSSING_MS]
        return max(below, default=None), min(above, default=None)

    for n in ramp:
        if bounds()[1] is not None:
            break
        added.append(await measure(n))
    while True:
        lo, hi = bounds()
        if hi is None or (lo is None and hi == 1) or (lo is not None and hi - lo <= 5):
            return added
        added.append(await measure(hi // 2 if lo is None else (lo + hi) // 2))


# -- report -------------------------------------------------------------------------------
def table(rows: Sequence[Level]) -> str:
    lines = [
        f"{'server':<16} {'sess':>4} {'every':>5} {'steps/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'max ms':>7} {'cpu ms/step':>11} {'KiB/step':>8} {'client':>6} {'MiB/sess':>8} "
        f"{'base':>5} {'closed':>6} {'wave2':>5} {'isolated':>8} {'load':>4} {'errors':>6}"
    ]
    for r in rows:
        closed = "-" if r.rss_closed_mib is None else f"{r.rss_closed_mib - r.rss_base_mib:+.0f}"
        wave2 = "-" if r.wave2_mib_per_session is None else f"{r.wave2_mib_per_session:.1f}"
        isolated = "-" if r.isolation is None else ("yes" if r.isolation["ok"] else "NO")
        lines.append(
            f"{r.server:<16} {r.sessions:>4} {r.interval_s:>4g}s {r.steps_per_s:>7.1f} "
            f"{r.p50_ms:>7.0f} {r.p95_ms:>7.0f} {r.max_ms:>7.0f} "
            f"{r.server_cpu_ms_per_step:>11.0f} {r.kib_per_step:>8.0f} {r.client_cpu_share:>6.0%} "
            f"{r.mib_per_session:>8.1f} {r.rss_base_mib:>5.0f} {closed:>6} {wave2:>5} "
            f"{isolated:>8} {r.loadavg:>4.1f} {len(r.errors):>6}"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    def ints(text: str) -> list[int]:
        return [int(t) for t in text.split(",") if t]

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=ints, default=[10, 20, 30])
    parser.add_argument("--ramp", type=ints, default=[40, 60, 80, 120])
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--history-steps", type=int, default=250)
    parser.add_argument("--history-sessions", type=int, default=10, help="0: skip them")
    parser.add_argument("--history-session-steps", type=int, default=200)
    parser.add_argument("--history-backs", type=int, default=50)
    parser.add_argument(
        "--baseline", type=Path, help="also run the history phase against this older checkout"
    )
    parser.add_argument(
        "--phases",
        type=lambda text: [t for t in text.split(",") if t],
        default=list(PHASES),
        help=f"comma-separated, of {','.join(PHASES)} (all by default)",
    )
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--scale-sessions", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="a smoke run of about two minutes")
    args = parser.parse_args(argv)
    if unknown := set(args.phases) - set(PHASES):
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if args.quick:
        args.sessions, args.ramp, args.duration = [2, 4], [], 6.0
        args.history_steps, args.scale_sessions = 50, 4
        args.history_sessions, args.history_session_steps, args.history_backs = 4, 50, 10
    return args


async def main(args: argparse.Namespace) -> int:
    async def measure(
        n: int, interval: float = args.interval, server: Server | None = None, **kw: bool
    ) -> Level:
        with server or Server() as running:
            return await level(running, n, interval, args.duration, args.batch, **kw)

    phases = set(args.phases)
    cold: dict[str, Any] = {}
    if "cold" in phases:
        cold = await cold_start(args.batch)
        print(f"Cold start: {cold['failed']} of {cold['sessions']} sessions opened at once failed")
        print(*cold["first_error"])

    levels: list[Level] = []
    if "levels" in phases:
        levels = [
            await measure(n, checks=True, wave2=n == max(args.sessions)) for n in args.sessions
        ]
        print(
            f"\nLevels: {LESSON} on the MNIST sample, batch {args.batch}, {args.duration:g} s each"
        )
        print(table(levels), flush=True)

    tabs: dict[str, Any] = {}
    if "browsers" in phases:
        tabs = await browsers_alongside(10, 3, args.interval, args.duration, args.batch)
        if "skipped" in tabs:
            print(f"\nBrowsers alongside: skipped, {tabs['skipped']}")
        else:
            print(
                f"\nBrowsers alongside: {tabs['browser_tabs']} chromium tabs and "
                f"{tabs['protocol_sessions']} protocol sessions, each stepping every "
                f"{args.interval:g} s: p50/p95 {tabs['browser']['p50_ms']:.0f}/"
                f"{tabs['browser']['p95_ms']:.0f} ms in the browser (click to the new step on "
                f"screen), {tabs['protocol']['p50_ms']:.0f}/{tabs['protocol']['p95_ms']:.0f} ms "
                "over the protocol (click to script_finished)",
                flush=True,
            )

    ramp: list[Level] = []
    if "crossing" in phases:
        ramp = await crossing(levels, args.ramp, measure)
        if ramp:
            print("\nCrossing: more sessions at the same pace, to where p95 passes 1 s")
            print(table(ramp), flush=True)
    below = [r.sessions for r in levels + ramp if r.p95_ms <= CROSSING_MS]
    above = [r.sessions for r in levels + ramp if r.p95_ms > CROSSING_MS]
    cross = {"last_below": max(below, default=None), "first_above": min(above, default=None)}

    trees = [ROOT, *([args.baseline] if args.baseline else [])]
    hist: dict[str, list[tuple[int, float]]] = {}
    many: list[dict[str, Any]] = []
    if "history" in phases:
        for tree in trees:
            points = hist[str(tree)] = await history(args.history_steps, args.batch, root=tree)
            print(f"\nHistory ({tree}): one session's server memory as it steps")
            print("  ".join(f"{k} steps {mib - points[0][1]:+.0f} MiB" for k, mib in points))
        if args.history_sessions:
            for tree in reversed(trees):  # the baseline first
                many.append(
                    await history_sessions(
                        args.history_sessions,
                        args.history_session_steps,
                        args.history_backs,
                        args.batch,
                        root=tree,
                    )
                )
            print(
                f"\nHistory, {args.history_sessions} sessions at once, each stepping "
                f"{args.history_session_steps} times without pause, then "
                f"{args.history_backs} back: server MiB per session over one warm session"
            )
            print(history_table(many), flush=True)
            if len(many) == 2:
                (before, after) = (r["mib_per_session"][-1][1] for r in many)
                print(f"after / before at {args.history_session_steps} steps: {after / before:.3f}")

    scale: list[Level] = []
    if "scale" in phases and nginx_installed():
        at = cross["first_above"] or max((r.sessions for r in levels + ramp), default=30)
        for make in (Server, partial(Server, nginx=True), partial(Server, args.processes)):
            scale.append(await measure(at, server=make()))
            scale.append(await measure(args.scale_sessions, 0.0, make()))
        print(f"\nScale-out: at {at} sessions, and {args.scale_sessions} flat out")
        print(table(scale), flush=True)
    elif "scale" in phases:
        print("\nScale-out skipped: nginx is not installed (apt-get install nginx)")

    targets: dict[str, bool] = {}
    if levels:
        top = max(levels, key=lambda r: r.sessions)
        targets[f"{top.sessions} sessions p95 <= {P95_TARGET_MS:g} ms"] = (
            top.p95_ms <= P95_TARGET_MS
        )
        targets[f"<= {MIB_TARGET:g} MiB per extra session"] = top.mib_per_session <= MIB_TARGET
    if cold:
        targets[f"cold start: {COLD_SESSIONS} sessions at once all open"] = cold["failed"] == 0
    if many:
        after = many[-1]
        targets[
            f"<= {HISTORY_MIB_TARGET:g} MiB per session after {after['steps']} steps "
            f"({after['sessions']} sessions)"
        ] = after["mib_per_session"][-1][1] <= HISTORY_MIB_TARGET
    print("\nTargets: " + "; ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in targets.items()))
    failures = [f"{r.server} x{r.sessions}: {e}" for r in levels + ramp + scale for e in r.errors]
    failures += [f"alongside browsers: {e}" for e in tabs.get("errors", [])]
    failures += [
        f"{r.sessions} sessions not isolated: {r.isolation}"
        for r in levels
        if r.isolation is not None and not r.isolation["ok"]
    ]
    for r in many:
        failures += [f"history sessions ({r['tree']}): {e}" for e in r["errors"]]
        if not r["ok"]:
            failures.append(
                f"history sessions ({r['tree']}): steps shown {r['steps_shown']}, "
                f"after stepping back {r['steps_shown_after_backs']}"
            )
    for failure in failures:
        print("FAILED", failure)
    print(
        json.dumps(
            {
                "bench": "load",
                "network": LESSON,
                "batch": args.batch,
                "duration_s": args.duration,
                "phases": sorted(phases),
                "cold_start": cold,
                "browsers_alongside": tabs,
                "levels": [asdict(r) for r in levels],
                "crossing_levels": [asdict(r) for r in ramp],
                "p95_crosses_1s": cross,
                "history_mib": hist.get(str(ROOT), []),
                "baseline_history_mib": hist.get(str(args.baseline), []) if args.baseline else [],
                "history_sessions": many,
                "scale_out": [asdict(r) for r in scale],
                "targets": targets,
                "failures": failures,
            }
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args(sys.argv[1:]))))
