"""Fashion-MNIST (Zalando, MIT) from Debian's ``dataset-fashion-mnist`` package, which puts the
four gzipped IDX files in /usr/share/datasets/fashion-mnist. Nothing is downloaded here; on a
machine without the package the set is simply not offered.
"""

from __future__ import annotations

from pathlib import Path

from explorer.data.dataset import DataError, Dataset
from explorer.data.idx import load_idx_folder

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FASHION_MNIST_PROVENANCE = (
    "Fashion-MNIST (Zalando SE, MIT licence): 60,000 training and 10,000 test 28×28 images "
    "of clothing, from Debian's dataset-fashion-mnist package."
)


def fashion_mnist_installed(folder: Path = FASHION_MNIST_DIR) -> bool:
    """Whether the Debian package's folder is there."""
    return folder.is_dir()


def load_fashion_mnist(folder: Path = FASHION_MNIST_DIR) -> Dataset:
    """Fashion-MNIST's IDX files from ``folder``."""
    if not fashion_mnist_installed(folder):
        raise DataError(
            f"Fashion-MNIST is not installed: {folder} is missing. On Debian or Ubuntu, "
            "`apt install dataset-fashion-mnist` provides it."
        )
    return load_idx_folder(
        folder,
        name="Fashion-MNIST",
        class_names=FASHION_MNIST_CLASSES,
        provenance=FASHION_MNIST_PROVENANCE,
    )
