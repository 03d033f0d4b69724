"""The app under ``streamlit run`` on a loopback port, as deploy/serve.py, the browser tests and
the benchmarks start it from a checkout: one command line, one health check; and the
headless Debian chromium the tests and benchmarks look at it with (a browser Playwright would
download cannot be fetched here).

Left out: anything the app itself needs; no page or view imports this module.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

# The checkout, where app.py is: this package must be installed from it in editable mode (as
# make run and make test install it), not copied into site-packages.
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_command(port: int, options: Sequence[str] = ()) -> list[str]:
    """``streamlit run app.py`` on 127.0.0.1:``port``, headless, with no file watcher and no
    usage statistics; ``options`` are further ``--section.name value`` settings."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        *("--server.headless", "true"),
        *("--server.address", "127.0.0.1"),
        *("--server.port", str(port)),
        *("--browser.gatherUsageStats", "false"),
        *("--server.fileWatcherType", "none"),
        *options,
    ]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Wait until the server at ``url`` answers its health check; RuntimeError if ``proc``
    exits first or ``deadline`` (``time.monotonic()``) passes. No proxy is asked."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        try:
            with opener.open(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"the app at {url} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the app at {url} did not start in time")
        time.sleep(0.3)


@contextmanager
def running_app(options: Sequence[str] = (), *, start_timeout: float = 90.0) -> Iterator[str]:
    """The app on a free loopback port for the ``with`` block, which gets its URL; output is
    discarded. RuntimeError if it does not answer within ``start_timeout`` seconds."""
    port = free_port()
    proc = subprocess.Popen(
        app_command(port, options), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, time.monotonic() + start_timeout)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
