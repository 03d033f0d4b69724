"""IDX files, the format of MNIST, Fashion-MNIST and EMNIST: parsing with strict checks,
finding the four files of a set by name (both ``train-images-idx3-ubyte`` and
``train-images.idx3-ubyte`` styles, gzipped or not), and turning them into a Dataset.

Only unsigned-byte IDX files (type 0x08) are read: every image set above uses them.
Gzip is recognised by content, in ``source``; nothing here looks at a ``.gz`` suffix.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from explorer.data.dataset import (
    DIGIT_NAMES,
    DataError,
    Dataset,
    class_labels,
    pixels_to_unit,
)
from explorer.data.source import MAX_VALUES, Source, read_source

UBYTE = 0x08
# Labels have 1 dimension and images 3; 2 (one image, say) is read but is no set.
MAX_DIMS = 3

# (split, kind) -> what the file should hold; the split is "train" or "t10k" as MNIST names it.
ROLES: dict[tuple[str, str], str] = {
    ("train", "images"): "training images",
    ("train", "labels"): "training labels",
    ("t10k", "images"): "test images",
    ("t10k", "labels"): "test labels",
}
# An optional prefix (EMNIST: "emnist-letters-"), then "train-images-idx3-ubyte" with "-" or
# "." before "idx" ("test" for "t10k" as EMNIST names it), then an optional ".gz" that is
# ignored: gzip is detected by content.
_NAME = re.compile(
    r"(?:^|.*[-_.])(?P<split>train|t10k|test)-(?P<kind>images|labels)[-.]idx[13]-ubyte(?:\.gz)?",
    re.IGNORECASE,
)


def encode_idx(array: npt.NDArray[np.uint8]) -> bytes:
    """The IDX bytes of a uint8 array: the inverse of ``parse_idx``."""
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, UBYTE, array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def parse_idx(source: Source, what: str = "The file") -> npt.NDArray[np.uint8]:
    """The array an unsigned-byte IDX file holds, shaped as its header says.

    Raises DataError for a wrong magic number, a header cut short, a shape that is not an
    image set's or holds more than MAX_VALUES, or data that is shorter or longer than the
    header announces. A gzipped file is refused from its header, before it is decompressed.
    """
    data = read_source(source, what, size_from_head=lambda head: _file_size(head, what))
    shape, header_size = _header(data, what)
    expected, actual = math.prod(shape), len(data) - header_size
    if actual != expected:
        problem = "it is truncated" if actual < expected else "it has extra bytes at the end"
        raise DataError(
            f"{what} does not match its header: the header announces "
            f"{_dims(shape)} = {expected:,} bytes of data, but the file "
            f"holds {actual:,}; {problem}."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def _file_size(head: bytes, what: str) -> int:
    """The bytes an IDX file whose first bytes are ``head`` must hold in all."""
    shape, header_size = _header(head, what)
    return header_size + math.prod(shape)


def _header(data: bytes, what: str) -> tuple[tuple[int, ...], int]:
    """(shape, header size) of the IDX file ``data`` starts with, refusing a header no
    image set has before anything is allocated for it."""
    if len(data) < 4 or data[:2] != b"\0\0" or data[3] == 0:
        raise DataError(
            f"{what} is not an IDX file: it should start with the bytes 00 00 08 and a "
            f"dimension count, but starts with {data[:4].hex(' ')}."
        )
    if data[2] != UBYTE:
        raise DataError(
            f"{what} holds IDX values of type 0x{data[2]:02x}; only unsigned bytes "
            "(type 0x08, as in MNIST) can be loaded."
        )
    ndim = data[3]
    if ndim > MAX_DIMS:
        raise DataError(
            f"{what} has {ndim} dimensions, but IDX image sets have 1 (labels: a count) or "
            "3 (images: count, height and width); it is not an image set's file."
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(
            f"{what} is cut short inside its header: {ndim} dimensions need a "
            f"{header_size}-byte header, but the file has only {len(data)} bytes."
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    _check_size(shape, what)
    return shape, header_size


def _check_size(shape: tuple[int, ...], what: str) -> None:
    """Refuse more than MAX_VALUES values. The sizes other than 0 count even when one is 0:
    such an empty array is no image set, and NumPy cannot shape one past 2**63 bytes."""
    values = math.prod(shape)
    if values > MAX_VALUES:
        raise DataError(
            f"{what} is too big to load: its header announces {_dims(shape)} = {values:,} "
            f"bytes of data, more than the {MAX_VALUES:,} values the app loads."
        )
    if math.prod(max(side, 1) for side in shape) > MAX_VALUES:
        raise DataError(
            f"{what} has an impossible header: it announces {_dims(shape)}, an empty array "
            f"whose other sizes hold more than the {MAX_VALUES:,} values the app loads."
        )


def _dims(shape: tuple[int, ...]) -> str:
    return " × ".join(f"{side:,}" for side in shape)


def load_idx_files(
    files: Mapping[str, Source],
    *,
    name: str = "IDX dataset",
    class_names: Sequence[str] = DIGIT_NAMES,
    provenance: str | None = None,
) -> Dataset:
    """A Dataset from the four IDX files of a set, told apart by their names.

    ``files`` maps file names to uploaded bytes or paths; names that are not IDX names
    (a README, say) are ignored. Labels must lie in 0..len(class_names)-1.
    """
    chosen = _match_roles(list(files))
    arrays = {
        role: parse_idx(files[file_name], f"The {ROLES[role]} file ({file_name})")
        for role, file_name in chosen.items()
    }
    parts = []
    for split in ("train", "t10k"):
        images, labels = arrays[split, "images"], arrays[split, "labels"]
        image_file, label_file = chosen[split, "images"], chosen[split, "labels"]
        if images.ndim != 3:
            raise DataError(
                f"{image_file} should hold images (3 dimensions: count, height, width) but "
                f"has {images.ndim}; were the image and label files swapped?"
            )
        if labels.ndim != 1:
            raise DataError(
                f"{label_file} should hold labels (1 dimension: count) but has "
                f"{labels.ndim}; were the image and label files swapped?"
            )
        if len(images) == 0:
            raise DataError(f"{image_file} holds no images.")
        if images.shape[1] * images.shape[2] == 0:
            raise DataError(
                f"{image_file} holds images of {images.shape[1]}×{images.shape[2]} pixels: "
                "they have no pixels."
            )
        if len(images) != len(labels):
            raise DataError(
                f"{image_file} holds {len(images):,} images but {label_file} holds "
                f"{len(labels):,} labels; they must match one to one."
            )
        parts.append((images, labels))
    (train_images, train_labels), (test_images, test_labels) = parts
    if train_images.shape[1:] != test_images.shape[1:]:
        raise DataError(
            f"The training images are {'×'.join(map(str, train_images.shape[1:]))} pixels but "
            f"the test images are {'×'.join(map(str, test_images.shape[1:]))}; they must match."
        )
    height, width = train_images.shape[1:]
    n_pixels = height * width
    if provenance is None:
        provenance = "IDX files " + ", ".join(sorted(chosen.values())) + "."
    return Dataset(
        name=name,
        x_train=pixels_to_unit(train_images.reshape(-1, n_pixels), "The training images"),
        y_train=class_labels(train_labels, "The training labels"),
        x_test=pixels_to_unit(test_images.reshape(-1, n_pixels), "The test images"),
        y_test=class_labels(test_labels, "The test labels"),
        input_shape=(height, width),
        class_names=tuple(class_names),
        task="classification",
        provenance=provenance,
    )


def load_idx_folder(
    folder: str | Path,
    *,
    name: str = "IDX dataset",
    class_names: Sequence[str] = DIGIT_NAMES,
    provenance: str | None = None,
) -> Dataset:
    """``load_idx_files`` on the files of one folder."""
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"There is no folder at {path}.")
    files = {entry.name: entry for entry in path.iterdir() if entry.is_file()}
    return load_idx_files(files, name=name, class_names=class_names, provenance=provenance)


def _match_roles(file_names: list[str]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], list[str]] = {role: [] for role in ROLES}
    for file_name in file_names:
        match = _NAME.fullmatch(file_name)
        if match:
            split = "t10k" if match["split"].lower() == "test" else match["split"].lower()
            found[split, match["kind"].lower()].append(file_name)
    for role, names in found.items():
        if not names:
            split, kind = role
            raise DataError(
                f"The {ROLES[role]} file is missing: expected a name like "
                f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte (or with "
                f"'.idx' instead of '-idx', optionally ending in .gz)."
            )
        if len(names) > 1:
            raise DataError(
                f"Several files look like the {ROLES[role]}: {', '.join(sorted(names))}. "
                "Keep only one set of files."
            )
    return {role: names[0] for role, names in found.items()}
