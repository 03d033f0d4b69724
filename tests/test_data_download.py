"""The MNIST download against a local HTTP server on 127.0.0.1 that serves IDX files this
test builds: checksums, mirror fallback, the cache, and failures that leave nothing behind.
Nothing here reaches the internet."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from explorer.data import (
    MNIST_MIRRORS,
    MNIST_SHA256,
    DataError,
    download_mnist,
    encode_idx,
    load_dataset,
    load_mnist,
    mnist_downloaded,
)


class Server:
    """A static file server on 127.0.0.1 that counts the requests it answers."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(Handler, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy from the environment must not carry requests for 127.0.0.1 anywhere else.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    """A server holding a tiny MNIST-named set, and the checksums of its files."""
    root = tmp_path / "mirror" / "mnist"
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": (np.arange(30) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.arange(10, dtype=np.uint8),
    }
    checksums = {}
    for name, array in arrays.items():
        content = gzip.compress(encode_idx(array))
        (root / name).write_bytes(content)
        checksums[name] = hashlib.sha256(content).hexdigest()
    server = Server(tmp_path / "mirror")
    yield server, checksums
    server.close()


def test_download_checks_caches_and_loads(
    tmp_path: Path, mirror: tuple[Server, dict[str, str]]
) -> None:
    server, checksums = mirror
    cache = tmp_path / "cache"
    assert not mnist_downloaded(cache, checksums)
    folder = download_mnist(cache, mirrors=[server.url + "mnist/"], checksums=checksums)
    assert folder == cache and mnist_downloaded(cache, checksums)
    assert sorted(path.name for path in cache.iterdir()) == sorted(checksums)
    data = load_mnist(cache)
    assert (len(data.x_train), len(data.x_test)) == (30, 10)
    np.testing.assert_array_equal(data.y_test, np.arange(10))
    assert len(server.requests) == 4
    # Files already there with the right checksum are not fetched again.
    download_mnist(cache, mirrors=[server.url + "mnist/"], checksums=checksums)
    assert len(server.requests) == 4


def test_a_failing_mirror_falls_back_to_the_next(
    tmp_path: Path, mirror: tuple[Server, dict[str, str]]
) -> None:
    server, checksums = mirror
    mirrors = [server.url + "missing/", server.url + "mnist"]
    download_mnist(tmp_path / "cache", mirrors=mirrors, checksums=checksums)
    assert len(server.requests) == 8
    assert all(path.startswith("/mnist/") for path in server.requests[1::2])
    with pytest.raises(DataError, match=r"missing/train-images-idx3-ubyte.gz: HTTP 404"):
        download_mnist(tmp_path / "other", mirrors=mirrors[:1], checksums=checksums)


def test_checksum_mismatch_keeps_nothing_and_spares_the_cache(
    tmp_path: Path, mirror: tuple[Server, dict[str, str]]
) -> None:
    server, checksums = mirror
    cache = tmp_path / "cache"
    download_mnist(cache, mirrors=[server.url + "mnist/"], checksums=checksums)
    before = {path.name: path.read_bytes() for path in cache.iterdir()}
    wrong = dict(checksums)
    wrong["t10k-labels-idx1-ubyte.gz"] = "0" * 64
    with pytest.raises(DataError, match=r"Could not download t10k-labels.*checksum does not match"):
        download_mnist(cache, mirrors=[server.url + "mnist/"], checksums=wrong)
    after = {path.name: path.read_bytes() for path in cache.iterdir()}
    assert after == before


def test_a_new_file_with_a_wrong_checksum_leaves_no_file(
    tmp_path: Path, mirror: tuple[Server, dict[str, str]]
) -> None:
    server, checksums = mirror
    cache = tmp_path / "cache"
    wrong = {name: "f" * 64 for name in checksums}
    with pytest.raises(DataError, match="checksum does not match"):
        download_mnist(cache, mirrors=[server.url + "mnist/"], checksums=wrong)
    assert list(cache.iterdir()) == []


def test_an_unreachable_mirror_is_reported(tmp_path: Path) -> None:
    # A port that was just free: nothing listens there, so the connection is refused.
    closed = Server(tmp_path)
    url = closed.url
    closed.close()
    with pytest.raises(DataError, match=rf"Could not download .*{url}.*internet connection"):
        download_mnist(tmp_path / "cache", mirrors=[url], checksums={"a.gz": "0" * 64})


def test_an_unusable_cache_folder_is_a_data_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(DataError, match="Cannot create the cache folder"):
        download_mnist(blocker / "cache", mirrors=[], checksums={"a.gz": "0" * 64})


def test_not_downloaded_yet_is_explained(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not been downloaded yet"):
        load_mnist(tmp_path)
    with pytest.raises(DataError, match="not been downloaded yet"):
        load_dataset("mnist", cache_dir=tmp_path)


def test_the_real_table_names_the_four_mnist_files() -> None:
    assert sorted(MNIST_SHA256) == sorted(
        f"{split}-{kind}-idx{n}-ubyte.gz"
        for split in ("train", "t10k")
        for kind, n in (("images", 3), ("labels", 1))
    )
    assert all(len(digest) == 64 for digest in MNIST_SHA256.values())
    assert all(urlsplit(url).scheme == "https" and urlsplit(url).netloc for url in MNIST_MIRRORS)
