"""Datasets for the explorer: the 2-D Playground sets, real handwritten digits that work
offline, loaders for full datasets (IDX, Keras .npz, CSV), Fashion-MNIST from Debian, and
a checked MNIST download. NumPy only: no streamlit, no torch, no network unless asked.

Every loader returns a ``Dataset`` or raises ``DataError``, whose message a student can read.
"""

from explorer.data.csvfile import load_csv
from explorer.data.dataset import (
    DIGIT_NAMES,
    DataError,
    Dataset,
    Task,
    check_input_size,
)
from explorer.data.digits import MNIST_SAMPLE_PATH, load_digits_8x8, load_mnist_sample
from explorer.data.download import (
    MNIST_MIRRORS,
    MNIST_SHA256,
    default_cache_dir,
    download_mnist,
    load_mnist,
    mnist_downloaded,
)
from explorer.data.fashion import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_DIR,
    fashion_mnist_installed,
    load_fashion_mnist,
)
from explorer.data.idx import encode_idx, load_idx_files, load_idx_folder, parse_idx
from explorer.data.npz import load_npz
from explorer.data.registry import available_datasets, load_dataset
from explorer.data.source import MAX_BYTES, MAX_VALUES, Source
from explorer.data.toy import (
    CLASSIFICATION_NAMES,
    N_POINTS_RANGE,
    NOISE_RANGE,
    REGRESSION_NAMES,
    TOY_NAMES,
    TOY_TITLES,
    TRAIN_RATIO_RANGE,
    make_toy,
)

__all__ = [
    "CLASSIFICATION_NAMES",
    "DIGIT_NAMES",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DIR",
    "MAX_BYTES",
    "MAX_VALUES",
    "MNIST_MIRRORS",
    "MNIST_SAMPLE_PATH",
    "MNIST_SHA256",
    "NOISE_RANGE",
    "N_POINTS_RANGE",
    "REGRESSION_NAMES",
    "TOY_NAMES",
    "TOY_TITLES",
    "TRAIN_RATIO_RANGE",
    "DataError",
    "Dataset",
    "Source",
    "Task",
    "available_datasets",
    "check_input_size",
    "default_cache_dir",
    "download_mnist",
    "encode_idx",
    "fashion_mnist_installed",
    "load_csv",
    "load_dataset",
    "load_digits_8x8",
    "load_fashion_mnist",
    "load_idx_files",
    "load_idx_folder",
    "load_mnist",
    "load_mnist_sample",
    "load_npz",
    "make_toy",
    "mnist_downloaded",
    "parse_idx",
]
