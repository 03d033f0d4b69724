"""Reading one input file, uploaded bytes or a path, with the guards every loader needs:
empty files, a size cap, and gzip detected by its magic bytes (not the file name) and
decompressed with a bound on its output so a gzip bomb cannot fill the memory.

It knows nothing of file formats; IDX, npz and CSV parsing live in their own modules.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import TypeAlias

from explorer.data.dataset import DataError

Source: TypeAlias = bytes | str | os.PathLike[str]

# Full MNIST is 47 MB of pixels; 200 MB leaves room for EMNIST-sized sets while keeping
# what one upload can make the server allocate bounded.
MAX_BYTES = 200 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


def describe(source: Source, role: str) -> str:
    """How messages name a source: the role, plus the file name when there is one."""
    return role if isinstance(source, bytes) else f"{role} ({Path(source).name})"


def read_source(source: Source, what: str) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic bytes.

    ``what`` names the file in error messages. Raises DataError for an unreadable, empty,
    oversized, truncated or corrupt file.
    """
    data = source if isinstance(source, bytes) else _read_path(Path(source), what)
    if not data:
        raise DataError(f"{what} is empty.")
    if len(data) > MAX_BYTES:
        raise DataError(f"{what} is larger than {_megabytes(MAX_BYTES)}, the most the app loads.")
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data, what)
        if not data:
            raise DataError(f"{what} is empty once decompressed.")
    return data


def gunzip(data: bytes, what: str) -> bytes:
    """Decompress one gzip stream, never producing more than MAX_BYTES."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        # max_length bounds the output: zlib stops there and keeps the rest of the input.
        out = inflater.decompress(data, MAX_BYTES + 1)
    except zlib.error as exc:
        raise DataError(f"{what} is a damaged gzip file ({exc}).") from None
    if len(out) > MAX_BYTES:
        raise DataError(
            f"{what} expands to more than {_megabytes(MAX_BYTES)} when decompressed, "
            "the most the app loads."
        )
    if not inflater.eof:
        raise DataError(f"{what} is a truncated gzip file: it ends too early.")
    if inflater.unused_data:
        raise DataError(f"{what} has extra bytes after its gzip data.")
    return out


def _read_path(path: Path, what: str) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DataError(
                f"{what} is larger than {_megabytes(MAX_BYTES)}, the most the app loads."
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{what}: there is no file at {path}.") from None
    except IsADirectoryError:
        raise DataError(f"{what}: {path} is a folder, not a file.") from None
    except OSError as exc:
        raise DataError(f"{what}: {path} cannot be read ({exc.strerror}).") from None


def _megabytes(n: int) -> str:
    return f"{n // (1024 * 1024)} MB"
