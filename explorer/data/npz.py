"""Keras-style ``.npz`` image sets: ``x_train, y_train, x_test, y_test`` (as
``keras.datasets.mnist`` saves them) or ``x, y``, which get a fixed stratified split.

Arrays are always loaded with ``allow_pickle=False``: an uploaded file must never run code.
Images may be (n, height, width) or flat (n, values); colour images are not supported.
"""

from __future__ import annotations

import io
import lzma
import math
import zipfile
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from explorer.data.dataset import (
    DIGIT_NAMES,
    DataError,
    Dataset,
    class_labels,
    image_shape,
    pixels_to_unit,
    stratified_split,
)
from explorer.data.source import MAX_BYTES, MAX_VALUES, Source, describe, read_source

KERAS_KEYS = ("x_train", "y_train", "x_test", "y_test")
PLAIN_KEYS = ("x", "y")
# Used when the file has only x and y: a fifth of every class for testing, always the same.
TEST_FRACTION = 0.2
SPLIT_SEED = 0
# A dataset needs four arrays; every member is opened to check its header, so their count is
# bounded too (100,000 tiny members took 10 s).
MAX_MEMBERS = 64
_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def load_npz(
    source: Source,
    *,
    name: str = "NPZ dataset",
    class_names: Sequence[str] = DIGIT_NAMES,
    provenance: str | None = None,
) -> Dataset:
    """A Dataset from a Keras-style .npz of images and class labels."""
    label = describe(source, ".npz file")
    what = f"The {label}"
    arrays = read_npz(read_source(source, what), what)
    if all(key in arrays for key in KERAS_KEYS):
        x_train, x_test = _images(arrays["x_train"], what), _images(arrays["x_test"], what)
        y_train = class_labels(arrays["y_train"], "y_train")
        y_test = class_labels(arrays["y_test"], "y_test")
        if x_train.shape[1:] != x_test.shape[1:]:
            raise DataError(
                f"{what}: x_train images have shape {x_train.shape[1:]} but x_test images "
                f"have {x_test.shape[1:]}; they must match."
            )
        split = "its own train/test split"
    elif all(key in arrays for key in PLAIN_KEYS):
        x, y = _images(arrays["x"], what), class_labels(arrays["y"], "y")
        if len(x) != len(y):
            raise DataError(f"{what}: x holds {len(x):,} examples but y {len(y):,} labels.")
        train, test = stratified_split(y, TEST_FRACTION, SPLIT_SEED)
        x_train, y_train, x_test, y_test = x[train], y[train], x[test], y[test]
        split = f"a fixed stratified split, {TEST_FRACTION:.0%} for testing"
    else:
        held = ", ".join(sorted(arrays)) or "no arrays"
        raise DataError(
            f"{what} holds {held}; expected x_train, y_train, x_test, y_test "
            "(the Keras layout) or x and y."
        )
    shape = x_train.shape[1:] if x_train.ndim == 3 else image_shape(x_train.shape[1])
    n_values = math.prod(shape)
    return Dataset(
        name=name,
        x_train=pixels_to_unit(x_train.reshape(-1, n_values), "The training images"),
        y_train=y_train,
        x_test=pixels_to_unit(x_test.reshape(-1, n_values), "The test images"),
        y_test=y_test,
        input_shape=tuple(shape),
        class_names=tuple(class_names),
        task="classification",
        provenance=provenance or f"A {label}, with {split}.",
    )


def _images(x: npt.NDArray[np.generic], what: str) -> npt.NDArray[np.generic]:
    if x.ndim not in (2, 3):
        raise DataError(
            f"{what}: the images must have 2 dimensions (examples, values) or 3 (examples, "
            f"height, width), but have shape {x.shape}."
        )
    if math.prod(x.shape[1:]) == 0:
        raise DataError(f"{what}: the images have no pixels (shape {x.shape}).")
    return x


def read_npz(
    data: bytes,
    what: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_members: int = MAX_MEMBERS,
) -> dict[str, npt.NDArray[np.generic]]:
    """The arrays of an .npz, read with every guard an uploaded archive needs: no pickles,
    at most ``max_members`` arrays, at most ``max_bytes`` once decompressed, at most
    MAX_VALUES values, and no header claiming more than its member holds. ``what`` names the
    file; raises DataError."""
    if not data.startswith(b"PK"):
        raise DataError(
            f"{what} does not look like an .npz file: an .npz is a zip archive of arrays, "
            "and this file does not start like one."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > max_members:
                raise DataError(
                    f"{what} holds {len(members):,} arrays; at most {max_members} are read."
                )
            # The sizes in the zip directory bound what reading can produce: zipfile stops at
            # them, so checking them first stops a zip bomb before any decompression.
            unpacked = sum(info.file_size for info in members)
            if unpacked > max_bytes:
                raise DataError(
                    f"{what} expands to {_megabytes(unpacked)}, more than the "
                    f"{_megabytes(max_bytes)} the app loads."
                )
            values = sum(_check_member(archive, info, what) for info in members)
            if values > MAX_VALUES:
                raise DataError(
                    f"{what} holds {values:,} values, more than the {MAX_VALUES:,} the app loads."
                )
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except DataError:
        raise
    except (ValueError, NotImplementedError, RuntimeError) as exc:
        # zipfile: an unknown compression method or zip version, or an encrypted member
        raise DataError(f"{what} could not be read: {exc}.") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, lzma.LZMAError) as exc:
        raise DataError(f"{what} is damaged or cut short ({exc}).") from None


def _megabytes(n: int) -> str:
    return f"{max(n // (1024 * 1024), 1):,} MB"


def _check_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> int:
    """The number of values in a member; refuse one that is not a plain .npy array, or whose
    header claims more data than the member holds: NumPy allocates what the header claims
    before it reads any data."""
    with archive.open(info) as member:
        magic = member.read(len(np.lib.format.MAGIC_PREFIX) + 2)  # the prefix, then a version
        if len(magic) < 8 or not magic.startswith(np.lib.format.MAGIC_PREFIX):
            raise DataError(f"{what}: {info.filename} is not a NumPy array (.npy file).")
        version = magic[6], magic[7]
        read_header = _HEADER_READERS.get(version)
        if read_header is None:
            raise DataError(
                f"{what}: {info.filename} is a .npy file of version {version[0]}.{version[1]}, "
                "which cannot be loaded; save it with numpy.savez."
            )
        shape, _, dtype = read_header(member)
    if dtype.hasobject:
        raise DataError(
            f"{what} holds Python objects, which are never loaded (they could run code); "
            "save plain numeric arrays instead."
        )
    values = math.prod(shape)
    if values * dtype.itemsize > info.file_size:
        raise DataError(
            f"{what} is damaged: {info.filename} claims an array of "
            f"{values * dtype.itemsize:,} bytes but holds only {info.file_size:,}."
        )
    return values
