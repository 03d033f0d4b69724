"""Serve Backprop Explorer as several app processes behind nginx, with sticky sessions.

Streamlit runs every session's script inside one Python process, so a large class outgrows one
process (one core, for Python code) long before it outgrows the machine. This starts
``--processes`` copies of ``streamlit run app.py`` on consecutive loopback ports, fills in
``deploy/nginx.conf.template`` for them and runs nginx in the foreground in front of them.
Ctrl-C or SIGTERM stops all of it; if any process dies, the rest are stopped too.

Logs go to RUN_DIR/logs (one file per app process, nginx's error and access logs); the
rendered nginx.conf is RUN_DIR/nginx.conf. The app processes share one cookie secret, so a
cookie one of them signed is valid at every other. Needs Debian's nginx (``apt-get install
nginx``); it runs unprivileged, so ``--port`` must be 1024 or above for a normal user.
See deploy/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from local_server import ROOT, app_command, wait_healthy

from explorer.data import MAX_BYTES

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
MIB = 1024 * 1024
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
START_TIMEOUT = 90.0  # seconds for every app process to answer its health check
# Settings for each app process, unless the environment already sets them (measured in
# bench/RESULTS.md): one BLAS thread, as the processes already share out the cores and idle
# OpenBLAS threads spin; and arrays of 64 KiB or more in mappings of their own, which go back
# to the system when freed instead of fragmenting the heap (a third to a half less memory per
# session).
PROCESS_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_MMAP_THRESHOLD_": "65536",
}


def nginx_body_limit_mb() -> int:
    """nginx's client_max_body_size, in MB: the app's upload cap plus Streamlit's 1 MB
    allowance for multipart overhead."""
    return MAX_BYTES // MIB + 1


def render_config(
    template: str, *, listen: str, app_ports: Sequence[int], run_dir: Path, max_body_mb: int
) -> str:
    """The nginx.conf for these app ports: every ``{{field}}`` of the template filled in."""
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in app_ports)
    fields = {
        "listen": listen,
        "servers": servers,
        "run_dir": str(run_dir),
        "max_body_mb": str(max_body_mb),
    }
    for name, value in fields.items():
        template = template.replace("{{" + name + "}}", value)
    left = re.findall(r"\{\{\w+\}\}", template)
    if left:
        raise ValueError(f"the nginx template has fields serve.py does not fill in: {left}")
    return template


def find_nginx() -> str:
    """The nginx binary; /usr/sbin is searched too, as it is not on a normal user's PATH."""
    found = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if found is None:
        sys.exit("nginx is not installed: apt-get install nginx")
    return found


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Options after -- go to every `streamlit run`, e.g. -- --server.baseUrlPath x",
    )
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--host", default="0.0.0.0", help="address nginx listens on")
    parser.add_argument("--port", type=int, default=8080, help="port nginx listens on")
    parser.add_argument("--app-port", type=int, default=8501, help="first app process's port")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "build" / "deploy")
    parser.add_argument("streamlit_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    return args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    nginx = find_nginx()
    run_dir: Path = args.run_dir.resolve()
    logs = run_dir / "logs"
    for folder in (logs, *(run_dir / "tmp" / d for d in TEMP_DIRS)):
        folder.mkdir(parents=True, exist_ok=True)
    ports = [args.app_port + i for i in range(args.processes)]
    conf = run_dir / "nginx.conf"
    conf.write_text(
        render_config(
            TEMPLATE.read_text(),
            listen=f"{args.host}:{args.port}",
            app_ports=ports,
            run_dir=run_dir,
            max_body_mb=nginx_body_limit_mb(),
        )
    )
    # One secret for all: a cookie signed by one process (XSRF) is then valid at every other.
    env = {**PROCESS_ENV, **os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32)}
    nginx_cmd = [nginx, "-p", str(run_dir), "-c", str(conf), "-e", str(logs / "nginx-error.log")]
    procs: dict[str, subprocess.Popen[bytes]] = {}
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops everything, as Ctrl-C does
    try:
        subprocess.run([*nginx_cmd, "-t", "-q"], check=True)
        for port in ports:
            with open(logs / f"app-{port}.log", "ab") as log:
                procs[f"app on port {port}"] = subprocess.Popen(
                    app_command(port, args.streamlit_args),
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        deadline = time.monotonic() + START_TIMEOUT
        for port, proc in zip(ports, procs.values(), strict=True):
            wait_healthy(f"http://127.0.0.1:{port}", proc, deadline)
        procs["nginx"] = subprocess.Popen([*nginx_cmd, "-g", "daemon off;"])
        print(
            f"Backprop Explorer on http://{args.host}:{args.port} -> {len(ports)} app "
            f"processes on 127.0.0.1:{ports[0]}-{ports[-1]}; logs in {logs}",
            flush=True,
        )
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping", flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"serve.py: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
