"""deploy/local_server.py: the command that starts the app on a loopback port and the wait
for its health check, which refuses a server that died or never answered. The browser tests
and tests/test_load_client.py start the real app with both."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from local_server import app_command, free_port, running_app, wait_healthy


def test_the_command_runs_this_checkouts_app_on_loopback() -> None:
    cmd = app_command(8765, ["--server.maxUploadSize", "5"])
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(cmd[4]).is_file() and Path(cmd[4]).name == "app.py"
    settings = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert settings["--server.address"] == "127.0.0.1"
    assert settings["--server.port"] == "8765"
    assert settings["--server.headless"] == "true"
    assert settings["--server.maxUploadSize"] == "5"


def test_a_server_that_exits_is_reported() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait()
    with pytest.raises(RuntimeError, match="exited with 3"):
        wait_healthy(f"http://127.0.0.1:{free_port()}", proc, time.monotonic() + 30)


def test_a_server_that_never_answers_times_out() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(RuntimeError, match="did not start in time"):
            wait_healthy(f"http://127.0.0.1:{free_port()}", proc, time.monotonic() + 1)
    finally:
        proc.kill()
        proc.wait()


def test_running_app_serves_the_app_for_the_block_and_stops_after() -> None:
    with running_app() as url, urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
        assert r.status == 200
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
