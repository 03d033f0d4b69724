"""Hostile files for the loaders (IDX, npz, CSV, each also gzipped), fuzzed with hypothesis:
random bytes, and valid files with bytes flipped, cut, inserted, overwritten or repeated.

Every input must give a Dataset or a DataError, whose message is shown to the user: never
another exception, never a hang (hypothesis' deadline), never more memory than the file
could hold (tracemalloc's peak). Files are fed the way an upload arrives, through
``parse_upload``, which picks the loader by file name. Headers that claim far more data than
the file holds are checked on their own, as are IDX headers of every rank, small gzip files
that decode to more than MAX_VALUES values, and CSV files without a label column; the
upload cap is checked against the server's.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.data import (
    MAX_BYTES,
    MAX_VALUES,
    DataError,
    Dataset,
    encode_idx,
    load_csv,
    load_npz,
    parse_idx,
)
from explorer.ui.datasets import parse_upload

ROOT = Path(__file__).parents[1]
MIB = 1024 * 1024
# Examples per fuzz test; FUZZ_EXAMPLES=20000 makes a long run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _rng() -> np.random.Generator:
    return np.random.default_rng(7)


def valid_idx() -> list[tuple[str, bytes]]:
    rng = _rng()
    arrays = (
        rng.integers(0, 256, (12, 5, 5), dtype=np.uint8),
        (np.arange(12) % 10).astype(np.uint8),
        rng.integers(0, 256, (6, 5, 5), dtype=np.uint8),
        (np.arange(6) % 10).astype(np.uint8),
    )
    return [(name, encode_idx(a)) for name, a in zip(IDX_NAMES, arrays, strict=True)]


def valid_npz(*, compressed: bool) -> bytes:
    rng = _rng()
    buffer = io.BytesIO()
    save = np.savez_compressed if compressed else np.savez
    save(
        buffer,
        x_train=rng.integers(0, 256, (12, 4, 4), dtype=np.uint8),
        y_train=(np.arange(12) % 10).astype(np.uint8),
        x_test=rng.random((6, 4, 4)).astype(np.float32),
        y_test=(np.arange(6) % 10).astype(np.int64),
    )
    return buffer.getvalue()


def valid_csv() -> bytes:
    rng = _rng()
    rows = ["label," + ",".join(f"pixel{i}" for i in range(9))]
    rows += [f"{k % 3}," + ",".join(map(str, rng.integers(0, 256, 9))) for k in range(30)]
    return ("\n".join(rows) + "\n").encode()


def two_members(content: bytes) -> bytes:
    """``content`` as two gzip members, as ``cat a.gz b.gz`` makes, cut inside the header."""
    return gzip.compress(content[:7], mtime=0) + gzip.compress(content[7:], mtime=0)


# Each valid upload: the file names, then the bytes of each file.
UPLOADS: dict[str, list[tuple[str, bytes]]] = {
    "idx": valid_idx(),
    "idx-multi-member": [(name + ".gz", two_members(data)) for name, data in valid_idx()],
    "npz": [("mnist.npz", valid_npz(compressed=False))],
    "npz-deflate": [("mnist.npz", valid_npz(compressed=True))],
    "csv": [("train.csv", valid_csv())],
    "csv-pair": [("train.csv", valid_csv()), ("test.csv", valid_csv())],
    "csv-gzip": [("train.csv.gz", gzip.compress(valid_csv(), mtime=0))],
    "csv-multi-member": [("train.csv.gz", two_members(valid_csv()))],
}


def test_the_valid_uploads_load() -> None:
    for files in UPLOADS.values():
        assert isinstance(parse_upload(files), Dataset)


@contextmanager
def peak_memory_below(limit: int) -> Iterator[None]:
    """Fail if the block's traced allocations ever held more than ``limit`` bytes at once."""
    tracemalloc.start()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak <= limit, f"allocated {peak:,} bytes at once"


def refused_or_loaded(load: Callable[[], object], size: int) -> None:
    """``load()`` returns a Dataset (or an array, for parse_idx) or raises DataError with a
    message, holding no more than a fixed amount plus a multiple of the input's size."""
    with peak_memory_below(16 * MIB + 64 * size):
        try:
            result = load()
        except DataError as exc:
            assert str(exc)
            return
    assert isinstance(result, Dataset | np.ndarray)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few random edits: flips, cuts, insertions, overwrites, repeats."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(out)))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "overwrite", "repeat", "end"]))
        if kind == "flip" and at < len(out):
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del out[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            out[at : at + len(chunk)] = chunk
        elif kind == "repeat":
            out[at:at] = out[at : at + draw(st.integers(1, 256))]
        elif kind == "end":
            del out[at:]
    return bytes(out)


@st.composite
def mutated_upload(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    """A valid upload with one or more of its files mutated."""
    files = UPLOADS[draw(st.sampled_from(sorted(UPLOADS)))]
    hit = draw(st.lists(st.integers(0, len(files) - 1), min_size=1, max_size=len(files)))
    return [
        (name, draw(mutated(content)) if i in hit else content)
        for i, (name, content) in enumerate(files)
    ]


@FUZZ
@given(mutated_upload())
def test_mutated_uploads_are_loaded_or_refused(files: list[tuple[str, bytes]]) -> None:
    refused_or_loaded(lambda: parse_upload(files), sum(len(c) for _, c in files))


@FUZZ
@given(
    st.sampled_from([("mnist.npz",), ("train.csv",), ("train.csv", "test.csv"), IDX_NAMES]),
    st.lists(st.binary(max_size=2048), min_size=4, max_size=4),
    st.booleans(),
)
def test_random_bytes_are_refused(names: tuple[str, ...], blobs: list[bytes], zipped: bool) -> None:
    contents = [gzip.compress(b, mtime=0) if zipped else b for b in blobs]
    files = list(zip(names, contents, strict=False))
    refused_or_loaded(lambda: parse_upload(files), sum(len(c) for _, c in files))


@FUZZ
@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.lists(st.integers(0, 2**32 - 1), max_size=6),
    st.binary(max_size=512),
)
def test_idx_headers_of_any_shape(kind: int, ndim: int, dims: list[int], body: bytes) -> None:
    header = struct.pack(">BBBB", 0, 0, kind, ndim) + b"".join(struct.pack(">I", d) for d in dims)
    refused_or_loaded(lambda: parse_idx(header + body), len(header) + len(body))


@FUZZ
@given(st.integers(1, 255), st.data(), st.integers(-2, 2), st.booleans())
def test_idx_headers_of_every_rank_with_the_data_they_announce(
    ndim: int, data: st.DataObject, extra: int, zipped: bool
) -> None:
    """Complete headers of any rank, with (about) the data they announce: over 64
    dimensions NumPy's own reshape error used to escape."""
    shape = [1] * ndim
    for at in data.draw(st.lists(st.integers(0, ndim - 1), max_size=3)):
        shape[at] = data.draw(st.integers(0, 6))
    content = struct.pack(f">BBBB{ndim}I", 0, 0, 8, ndim, *shape)
    content += bytes(max(math.prod(shape) + extra, 0))
    if zipped:
        content = two_members(content) if ndim % 2 else gzip.compress(content, mtime=0)
    if ndim > 3:
        with pytest.raises(DataError, match=f"has {ndim} dimensions"):
            parse_idx(content)
    else:
        refused_or_loaded(lambda: parse_idx(content), len(content))


# -- small gzip files that decode to more than MAX_VALUES values ---------------------------------
def gzip_of(head: bytes, rows: bytes, repeat: int) -> bytes:
    """gzip of ``head`` then ``rows`` ``repeat`` times, compressed a piece at a time so that
    making a bomb does not take the memory it would expand to."""
    deflate = zlib.compressobj(9, wbits=16 + zlib.MAX_WBITS)
    block = rows * max(1, MIB // len(rows))
    n_blocks, rest = divmod(repeat, len(block) // len(rows))
    parts = [deflate.compress(head)]
    parts += [deflate.compress(block) for _ in range(n_blocks)]
    parts += [deflate.compress(rows * rest), deflate.flush()]
    return b"".join(parts)


def idx_head(*shape: int) -> bytes:
    return struct.pack(f">BBBB{len(shape)}I", 0, 0, 8, len(shape), *shape)


@pytest.mark.parametrize(
    ("content", "limit", "message"),
    [
        # A header claiming just over MAX_VALUES, with all that data: refused from its header.
        (
            gzip_of(idx_head(MAX_VALUES // 784 + 1, 28, 28), bytes(784), MAX_VALUES // 784 + 1),
            MIB,
            "too big to load: its header announces 76,531 × 28 × 28",
        ),
        # A small header with 150 MB behind it: inflated no further than announced.
        (gzip_of(idx_head(2, 28, 28), bytes(784), 200_000), 2 * MIB, "its header announces"),
    ],
    ids=["idx-over-max-values", "idx-body-over-its-header"],
)
def test_small_idx_gzip_that_decodes_to_too_much_is_refused_without_inflating(
    content: bytes, limit: int, message: str
) -> None:
    assert len(content) < 200_000
    started = time.perf_counter()
    with pytest.raises(DataError, match=message), peak_memory_below(limit):
        parse_idx(content)
    assert time.perf_counter() - started < 1


WIDE_ROW = b",".join([b"0"] * 785) + b"\n"  # a 28×28 image of zeros, with its label


@pytest.mark.parametrize(
    ("row", "repeat"),
    [(WIDE_ROW, MAX_VALUES // 785 + 1), (b"0,0\n", MAX_VALUES // 2 + 1)],
    ids=["784-pixel-rows", "1-pixel-rows"],
)
def test_small_csv_gzip_that_decodes_to_too_many_values_is_refused_before_parsing(
    row: bytes, repeat: int
) -> None:
    """The text is decompressed (MAX_BYTES bounds it, and its buffer grows by an eighth at a
    time) and its lines counted; nothing more is allocated. A whole-file parse took 2.9 GB
    and 16 s for 20 million 1-pixel rows."""
    content = gzip_of(b"", row, repeat)
    assert len(content) < 300_000
    started = time.perf_counter()
    with (
        pytest.raises(DataError, match="values, more than the 60,000,000 the app loads"),
        peak_memory_below(len(row) * repeat * 9 // 8 + 8 * MIB),
    ):
        load_csv(content)
    assert time.perf_counter() - started < 5


# -- CSV files whose first column is not a label --------------------------------------------------
@FUZZ
@given(
    st.integers(11, 60),
    st.integers(1, 9),
    st.one_of(st.integers(0, 255), st.just(-1)),
    st.sampled_from(["none", "pixel", "1x1", "label"]),
    st.integers(0, 2**32 - 1),
)
def test_csv_without_a_label_column_is_refused(
    n_rows: int, n_pixels: int, first_pixel: int, header: str, seed: int
) -> None:
    """Rows of pixels only. Their first pixel is the same in every row (``first_pixel``, as
    pixel0 is 0 throughout MNIST) or, for -1, takes more than 10 values: either way it must
    not become the labels, whatever the header says."""
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 256, (n_rows, n_pixels + 1))
    table[:, 0] = first_pixel if first_pixel >= 0 else rng.permutation(256)[:n_rows]
    names = {
        "none": [],
        "pixel": [",".join(f"pixel{i}" for i in range(n_pixels + 1))],
        "1x1": [",".join(f"1x{i + 1}" for i in range(n_pixels + 1))],
        "label": ["label," + ",".join(f"pixel{i}" for i in range(n_pixels))],
    }[header]
    text = "\n".join(names + [",".join(map(str, row)) for row in table.tolist()]) + "\n"
    with pytest.raises(DataError, match="label") as refused:
        parse_upload([("train.csv", text.encode())])
    assert "first column" in str(refused.value)


# -- headers and directories that claim more than the file holds ------------------------------
def npy(shape: tuple[int, ...], descr: str = "|u1", body: bytes = b"") -> bytes:
    """A .npy file whose header claims ``shape`` whatever the body holds."""
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + body


def npz_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name + ".npy", content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "shape, descr",
    [((10**12,), "<f8"), ((10**9,), "|u1"), ((60_000, 28, 28 * 10**4), "|u1"), ((2**62,), "|u1")],
)
def test_npy_headers_claiming_huge_arrays_are_refused_before_allocating(
    shape: tuple[int, ...], descr: str
) -> None:
    members = {k: npy(shape, descr, b"\0" * 64) for k in ("x_train", "y_train", "x_test", "y_test")}
    data = npz_of(members)
    with pytest.raises(DataError, match="claims an array of"), peak_memory_below(MIB):
        load_npz(data)


def test_zip_directory_claiming_more_than_the_cap_is_refused_before_inflating() -> None:
    data = bytearray(npz_of({"x": npy((4, 4), body=bytes(16)), "y": npy((4,), body=bytes(4))}))
    # The uncompressed size of the first member, as the central directory records it.
    directory = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, directory + 24, MAX_BYTES)
    with pytest.raises(DataError, match="expands to"):
        load_npz(bytes(data))


def test_idx_header_claiming_a_billion_items_is_refused_before_allocating() -> None:
    data = struct.pack(">BBBBIII", 0, 0, 8, 3, 1000, 1000, 1000) + bytes(10)
    with pytest.raises(DataError, match="1,000,000,000 bytes of data"), peak_memory_below(MIB):
        parse_idx(data)


# -- the upload cap -----------------------------------------------------------------------------
def test_upload_cap_agrees_with_the_servers() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * MIB == MAX_BYTES


def npy_of(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


CSV_ROWS = b"".join(b"%d,%d\n" % (k % 2, k) for k in range(20))


@pytest.mark.parametrize(
    "files, message",
    [
        (
            [("a.npz", npz_of({"x": b"not an array", "y": npy_of(np.zeros(3, np.uint8))}))],
            "not a NumPy array",
        ),
        (
            [
                (
                    "a.npz",
                    npz_of(
                        {"x": npy_of(np.zeros((20, 0), np.uint8)), "y": npy_of(np.arange(20) % 2)}
                    ),
                )
            ],
            "no pixels",
        ),
        (
            [
                (n, encode_idx(np.zeros(s, np.uint8)))
                for n, s in zip(IDX_NAMES, [(3, 0, 5), (3,), (2, 0, 5), (2,)], strict=True)
            ],
            "no pixels",
        ),
        ([("train.csv", b"1e30,5\n" + CSV_ROWS)], "class numbers, but label 1 is 1e"),
    ],
    ids=["npz-member-not-npy", "npz-no-pixels", "idx-no-pixels", "csv-label-1e30"],
)
def test_crafted_files_are_refused(files: list[tuple[str, bytes]], message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_upload(files)


# Fields of a zip member's central directory entry that select how zipfile reads it.
ZIP_FIELDS = {"version needed": (6, "<H"), "flags": (8, "<H"), "compression": (10, "<H")}


@pytest.mark.parametrize("field", sorted(ZIP_FIELDS))
@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
def test_every_value_of_the_zip_fields_that_pick_a_reader(field: str, compressed: bool) -> None:
    valid = valid_npz(compressed=compressed)
    offset, fmt = ZIP_FIELDS[field]
    directory = valid.index(b"PK\x01\x02")
    for value in [*range(128), 0x8000, 0xFFFF]:
        data = bytearray(valid)
        struct.pack_into(fmt, data, directory + offset, value)
        refused_or_loaded(lambda data=bytes(data): load_npz(data), len(data))
