"""Reading one input file, uploaded bytes or a path, with the guards every loader needs:
empty files, a size cap, and gzip detected by its magic bytes (not the file name) and
decompressed with a bound on its output so a gzip bomb cannot fill the memory.

A gzip file may hold several members one after another (``cat a.gz b.gz``, bgzip); they are
decompressed in turn, as ``gzip -d`` and Python's gzip module do, and zero bytes after a
member (padding some tools write) are skipped as they skip them. Anything else after a
member is refused.

It knows nothing of file formats; IDX, npz and CSV parsing live in their own modules. A
format whose header announces its size can still have a gzipped file refused from its
first bytes, before the rest is decompressed (``read_source``'s ``size_from_head``).
"""

from __future__ import annotations

import io
import os
import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from explorer.data.dataset import DataError

Source: TypeAlias = bytes | str | os.PathLike[str]

# Full MNIST is 47 MB of pixels; 200 MB leaves room for EMNIST-sized sets while keeping
# what one upload can make the server allocate bounded.
MAX_BYTES = 200 * 1024 * 1024
# Values a file may decode to (pixels, plus labels in a CSV): 60,000 × 784 = 47 million is
# full MNIST or EMNIST-digits training images. The byte cap alone is not enough: 200 MB of
# CSV text holds up to 100 million values, which parsing turns into 4-8 bytes each.
MAX_VALUES = 60_000_000
GZIP_MAGIC = b"\x1f\x8b"
# What ``size_from_head`` is shown: enough for any IDX header (4 + 4 × 255 bytes).
HEAD_BYTES = 1024
# bgzip writes one member per 64 KB of data, 3,200 for 200 MB; each member costs a new
# decompressor, so millions of empty 20-byte members would take a minute.
MAX_GZIP_MEMBERS = 10_000
# Compressed bytes fed to zlib at a time, and decompressed bytes taken out at a time: zlib
# copies what it has not used yet, so small steps keep that copying proportional to the
# file, and small outputs keep only one copy of the content in memory.
_IN_STEP = 64 * 1024
_OUT_STEP = 4 * 1024 * 1024
_ZERO_RUN = re.compile(rb"\0*")


def describe(source: Source, role: str) -> str:
    """How messages name a source: the role, plus the file name when there is one."""
    return role if isinstance(source, bytes) else f"{role} ({Path(source).name})"


def read_source(
    source: Source, what: str, *, size_from_head: Callable[[bytes], int] | None = None
) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic bytes.

    ``what`` names the file in error messages. Raises DataError for an unreadable, empty,
    oversized, truncated or corrupt file. ``size_from_head``, for a format whose header
    announces its size, is shown the content's first HEAD_BYTES (fewer if it is shorter) and
    returns that size or raises DataError: a gzipped file is then refused from its header,
    or as soon as it decompresses to more than announced, instead of at MAX_BYTES.
    """
    data = source if isinstance(source, bytes) else _read_path(Path(source), what)
    if not data:
        raise DataError(f"{what} is empty.")
    if len(data) > MAX_BYTES:
        raise DataError(f"{what} is larger than {_megabytes(MAX_BYTES)}, the most the app loads.")
    if not data.startswith(GZIP_MAGIC):
        return data
    if size_from_head is None:
        data = gunzip(data, what)
    else:
        announced = size_from_head(_inflate(data, what, HEAD_BYTES))
        data = gunzip(data, what, announced=announced)
    if not data:
        raise DataError(f"{what} is empty once decompressed.")
    return data


def gunzip(data: bytes, what: str, *, announced: int | None = None) -> bytes:
    """Decompress every gzip member of ``data``, never producing more than MAX_BYTES, nor
    more than ``announced`` bytes when the file's own header says how long it is."""
    limit = MAX_BYTES if announced is None else min(announced, MAX_BYTES)
    out = _inflate(data, what, limit + 1)
    if len(out) <= limit:
        return out
    if limit == MAX_BYTES:
        raise DataError(
            f"{what} expands to more than {_megabytes(MAX_BYTES)} when decompressed, "
            "the most the app loads."
        )
    raise DataError(
        f"{what} decompresses to more than the {limit:,} bytes its header announces; "
        "it has extra bytes at the end."
    )


def _inflate(data: bytes, what: str, max_out: int) -> bytes:
    """The content of the gzip members in ``data``, one after another, cut at ``max_out``
    bytes: what lies beyond is neither decompressed nor checked."""
    out = io.BytesIO()  # getvalue() hands over its buffer without copying it
    view, pos, members = memoryview(data), 0, 0
    while out.tell() < max_out:
        pos = _skip_zeros(data, pos)
        if pos == len(data):
            break
        if not data.startswith(GZIP_MAGIC, pos):
            raise DataError(f"{what} has extra bytes after its gzip data.")
        members += 1
        if members > MAX_GZIP_MEMBERS:
            raise DataError(
                f"{what} is made of more than {MAX_GZIP_MEMBERS:,} gzip members, "
                "the most the app reads; compress it again as one."
            )
        pos = _inflate_member(view, pos, out, max_out, what)
    return out.getvalue()


def _inflate_member(view: memoryview, pos: int, out: io.BytesIO, max_out: int, what: str) -> int:
    """Decompress the member starting at ``pos`` into ``out`` until it ends or ``out``
    holds ``max_out`` bytes; returns where the member's compressed bytes end."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    pending: bytes | memoryview = b""
    try:
        while (want := min(max_out - out.tell(), _OUT_STEP)) > 0:  # 0 would mean "no limit"
            chunk = inflater.decompress(pending, want)
            out.write(chunk)
            if inflater.eof:
                return pos - len(inflater.unused_data)
            pending = inflater.unconsumed_tail
            if pending or len(chunk) == want:
                continue  # zlib has more to give from what it was fed
            if pos == len(view):
                raise DataError(f"{what} is a truncated gzip file: it ends too early.")
            pending = view[pos : pos + _IN_STEP]
            pos += len(pending)
    except zlib.error as exc:
        raise DataError(f"{what} is a damaged gzip file ({exc}).") from None
    return pos


def _skip_zeros(data: bytes, pos: int) -> int:
    match = _ZERO_RUN.match(data, pos)
    assert match is not None  # "\0*" matches everywhere, if only the empty string
    return match.end()


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
