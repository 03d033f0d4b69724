"""deploy/: the nginx configuration serve.py renders for N app processes (sticky on a cookie,
websockets passed through, the upload cap matching the app's) and nginx's own check of it.
Running the whole deployment is tested in tests/test_load_client.py.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from explorer.data import MAX_BYTES

DEPLOY = Path(__file__).parents[1] / "deploy"


def _serve() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_serve", DEPLOY / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


serve = _serve()


def render(run_dir: Path, ports: list[int]) -> str:
    return str(
        serve.render_config(
            serve.TEMPLATE.read_text(),
            listen="127.0.0.1:18080",
            app_ports=ports,
            run_dir=run_dir,
            max_body_mb=serve.nginx_body_limit_mb(),
        )
    )


def test_config_lists_every_process_and_sticks_on_a_cookie(tmp_path: Path) -> None:
    conf = render(tmp_path, [8501, 8502, 8503])
    assert "{{" not in conf and "ip_hash;" not in conf
    servers = [ln.split()[1] for ln in conf.splitlines() if ln.strip().startswith("server 127.")]
    assert servers == ["127.0.0.1:8501", "127.0.0.1:8502", "127.0.0.1:8503"]
    assert "hash $bpx_route consistent;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert str(tmp_path / "logs" / "nginx-access.log") in conf


def test_upload_cap_is_the_apps_plus_multipart_overhead(tmp_path: Path) -> None:
    assert serve.nginx_body_limit_mb() * 1024 * 1024 == MAX_BYTES + 1024 * 1024
    assert f"client_max_body_size {serve.nginx_body_limit_mb()}m;" in render(tmp_path, [8501])


@pytest.mark.skipif(
    shutil.which("nginx", path="/usr/sbin:/usr/bin") is None,
    reason="nginx is not installed (apt-get install nginx)",
)
def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    for sub in ("logs", *(f"tmp/{d}" for d in serve.TEMP_DIRS)):
        (tmp_path / sub).mkdir(parents=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(render(tmp_path, [8501, 8502]))
    nginx = serve.find_nginx()
    check = [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "e.log")]
    result = subprocess.run(check, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
