"""Full MNIST for users with internet: the four gzipped IDX files, fetched from the usual
public mirrors into a user cache folder, each checked against its SHA-256 before it is kept.

A file already in the cache with the right checksum is not fetched again. A failed or
mismatched download leaves nothing behind and never touches files already there. Nothing
here runs unless asked: loading the app never touches the network.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from explorer.data.dataset import DataError, Dataset
from explorer.data.idx import load_idx_folder
from explorer.data.source import MAX_BYTES

# The mirrors torchvision and TensorFlow use; yann.lecun.com now often refuses scripts.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# In the format of `sha256sum`, so a cache folder can be checked with `sha256sum -c`.
_MNIST_SHA256SUMS = """\
440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609  train-images-idx3-ubyte.gz
3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c  train-labels-idx1-ubyte.gz
8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6  t10k-images-idx3-ubyte.gz
f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6  t10k-labels-idx1-ubyte.gz
"""
MNIST_SHA256: Mapping[str, str] = MappingProxyType(
    {name: digest for digest, name in (line.split() for line in _MNIST_SHA256SUMS.splitlines())}
)
MNIST_PROVENANCE = (
    "MNIST (Yann LeCun and Corinna Cortes, CC BY-SA 3.0): 60,000 training and 10,000 test "
    "28×28 digits, downloaded and checked against their SHA-256 checksums."
)
_CHUNK = 1024 * 1024


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/backprop-explorer/mnist, or ~/.cache/backprop-explorer/mnist."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "backprop-explorer" / "mnist"


def mnist_downloaded(
    cache_dir: Path | None = None, checksums: Mapping[str, str] = MNIST_SHA256
) -> bool:
    """Whether every file is in the cache (downloads are verified before they are kept)."""
    folder = cache_dir or default_cache_dir()
    return all((folder / file_name).is_file() for file_name in checksums)


def download_mnist(
    cache_dir: Path | None = None,
    *,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    checksums: Mapping[str, str] = MNIST_SHA256,
    timeout: float = 30.0,
) -> Path:
    """Fetch every file of ``checksums`` missing from the cache, trying the mirrors in turn,
    and return the cache folder. Raises DataError naming each mirror's failure."""
    folder = cache_dir or default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"Cannot create the cache folder {folder} ({exc.strerror}).") from None
    for file_name, sha256 in checksums.items():
        target = folder / file_name
        if target.is_file() and _sha256(target.read_bytes()) == sha256:
            continue
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + file_name
            try:
                _fetch(url, target, sha256, timeout)
                break
            except urllib.error.HTTPError as exc:
                failures.append(f"{url}: HTTP {exc.code} {exc.reason}")
            except urllib.error.URLError as exc:
                failures.append(f"{url}: {exc.reason}")
            except (OSError, DataError) as exc:
                failures.append(f"{url}: {exc}")
        else:
            raise DataError(
                f"Could not download {file_name} ({'; '.join(failures) or 'no mirror given'}). "
                "Check the internet connection, or load MNIST from files you already have."
            )
    return folder


def load_mnist(cache_dir: Path | None = None) -> Dataset:
    """Full MNIST from the cache that ``download_mnist`` filled."""
    folder = cache_dir or default_cache_dir()
    if not mnist_downloaded(folder):
        raise DataError("Full MNIST has not been downloaded yet; download it first.")
    return load_idx_folder(folder, name="MNIST", provenance=MNIST_PROVENANCE)


def _fetch(url: str, target: Path, sha256: str, timeout: float) -> None:
    """Stream ``url`` into a temporary file beside ``target``; rename it into place only
    when its checksum matches, so ``target`` is never half-written or wrong."""
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        # A fresh opener reads the proxy settings of this moment, not of the first request.
        opener = urllib.request.build_opener()
        with opener.open(url, timeout=timeout) as response, partial.open("wb") as out:
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise DataError("the file is far larger than expected")
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise DataError("the checksum does not match (the file is damaged or different)")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
