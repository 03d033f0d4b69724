"""It generalises (explorer.analysis.generalise, no Streamlit): test accuracy comes from the
held-out
rows only, a small split overfits, the gallery's confidences are the network's probabilities,
and the check trains our network and scikit-learn's on the same rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from explorer.analysis.generalise import (
    FASHION,
    LESSON_SETTINGS,
    Check,
    Curves,
    Recipe,
    curves,
    gallery,
    outputs_on_test,
    page_settings,
    split_sizes,
    start_training,
    train_split,
)
from explorer.data import Dataset, load_digits_8x8, load_mnist_sample, make_toy
from explorer.engine import epoch_batches, epoch_order, evaluate
from explorer.figures.generalise import accuracy_figure, gallery_figure
from explorer.state.settings import Settings

MNIST = load_mnist_sample()


def small(d: Dataset, n_train: int, n_test: int) -> Dataset:
    return replace(
        d,
        x_train=d.x_train[:n_train],
        y_train=d.y_train[:n_train],
        x_test=d.x_test[:n_test],
        y_test=d.y_test[:n_test],
    )


def test_a_split_keeps_every_test_row_and_only_the_chosen_training_rows() -> None:
    part = train_split(MNIST, 300, seed=4)
    assert len(part.x_train) == 300
    assert part.x_test is MNIST.x_test and part.y_test is MNIST.y_test
    rows = {r.tobytes() for r in MNIST.x_train}
    assert all(r.tobytes() in rows for r in part.x_train)
    assert train_split(MNIST, 300, seed=4).x_train.tobytes() == part.x_train.tobytes()
    assert train_split(MNIST, 10**6, seed=4) is MNIST
    assert split_sizes(MNIST) == (100, 300, 1000, 3000, len(MNIST.x_train))
    with pytest.raises(ValueError, match="at least one"):
        train_split(MNIST, 0, seed=0)


def test_test_accuracy_is_measured_on_the_held_out_rows_only() -> None:
    d = small(MNIST, 2000, 500)
    job = start_training(LESSON_SETTINGS, d, split=200, epochs=3)
    while job.running:
        job.advance(1.0)
    c = curves(job)
    assert c.epochs == (0, 1, 2, 3)
    params = job.params()
    test = evaluate(job.spec, params, d.x_test, d.y_test, classify=True)
    on_split = evaluate(job.spec, params, job.dataset.x_train, job.dataset.y_train, classify=True)
    on_all = evaluate(job.spec, params, d.x_train, d.y_train, classify=True)
    assert c.test[-1] == test.accuracy
    assert c.train[-1] == on_split.accuracy != on_all.accuracy  # the 200 rows it trained on
    assert len(job.dataset.x_train) == 200


def test_a_small_split_overfits_and_the_whole_set_generalises_better() -> None:
    def trained(split: int) -> tuple[float, float]:
        job = start_training(LESSON_SETTINGS, MNIST, split=split, epochs=15)
        while job.running:
            job.advance(5.0)
        c = curves(job)
        return c.train[-1], c.test[-1]

    train_small, test_small = trained(100)
    assert train_small > 0.9
    assert train_small - test_small > 0.25
    _, test_big = trained(3000)
    assert test_big > test_small + 0.15


def test_the_sidebars_network_is_used_on_a_digit_image_set_and_the_lessons_otherwise() -> None:
    mine = replace(LESSON_SETTINGS, dataset="digits-8x8", hidden_sizes=(8, 8))
    assert page_settings(mine, load_digits_8x8()) is mine
    circle = Settings()
    assert page_settings(circle, make_toy("circle")) == LESSON_SETTINGS


def test_the_gallery_shows_right_and_wrong_digits_with_the_networks_probabilities() -> None:
    labels = np.array([0, 1, 2, 1])
    output = np.array(
        [[0.9, 0.05, 0.05], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.4, 0.35, 0.25]],
    )
    right, wrong = gallery(labels, output, limit=5)
    assert [g.index for g in right] == [0, 2]
    assert [g.index for g in wrong] == [1, 3]  # the most confident mistake first
    mistake = wrong[0]
    assert (mistake.label, mistake.predicted) == (1, 0)
    assert (mistake.confidence, mistake.true_probability) == (0.7, 0.2)
    assert not mistake.right and right[0].right
    assert right[0].confidence == right[0].true_probability == 0.9


def test_the_gallery_of_a_trained_network_matches_its_test_predictions() -> None:
    job = start_training(LESSON_SETTINGS, small(MNIST, 1000, 300), split=1000, epochs=2)
    while job.running:
        job.advance(1.0)
    output = outputs_on_test(job)
    right, wrong = gallery(job.dataset.y_test, output)
    assert len(right) == 12 and len(wrong) == 12
    assert all(g.right for g in right) and not any(g.right for g in wrong)
    share_right = float(np.mean(output.argmax(axis=1) == job.dataset.y_test))
    assert share_right == curves(job).test[-1]


TINY = Recipe("784-32-10 on a slice", "mnist-sample", (32,), "-", epochs=2)


def test_the_check_trains_both_models_on_the_same_rows_and_times_both() -> None:
    d = small(MNIST, 640, 200)
    check = Check(TINY, d, seed=3)
    assert check.ours.dataset is d and check.theirs.dataset is d
    check.run()
    assert check.finished and check.fraction == 1.0
    result = check.result()
    # each saw every training row once an epoch, and was scored on the same test rows
    assert check.ours.samples == check.theirs.model.t_ == 2 * 640
    assert check.theirs.model.coefs_[0].shape == check.ours.params().weights[0].shape
    assert result.ours_epochs == result.theirs_epochs == 2
    assert result.ours > 0.5 and result.theirs > 0.5
    assert result.ratio == result.theirs_seconds / result.ours_seconds > 0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_trains_on_our_batches_in_our_order() -> None:
    d = small(MNIST, 256, 50)
    check = Check(TINY, d, seed=1)
    check.theirs.epoch()
    order = epoch_order(256, 1, 0)  # the order our first epoch's batches take the rows in
    assert np.concatenate(epoch_batches(256, 64, 1, 0)).tolist() == order.tolist()
    reference = replace(TINY, epochs=1).sklearn_model(seed=1)
    reference.fit(d.x_train[order], d.y_train[order])  # one epoch, batches of 64 in this order
    for mine, theirs in zip(check.theirs.model.coefs_, reference.coefs_, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    shuffled = replace(TINY, epochs=1).sklearn_model(seed=1).set_params(shuffle=True)
    shuffled.fit(d.x_train, d.y_train)
    assert not np.array_equal(shuffled.coefs_[0], check.theirs.model.coefs_[0])


def test_a_stopped_check_reports_what_was_trained() -> None:
    check = Check(TINY, small(MNIST, 640, 100), seed=0)
    check.stop()
    check.advance(1.0)
    assert not check.running and not check.finished
    result = check.result()
    assert np.isnan(result.ours) and np.isnan(result.theirs)
    assert FASHION.settings(0).hidden_sizes == (100,)


def test_the_accuracy_figure_draws_both_curves_in_percent_and_shades_the_gap() -> None:
    fig = accuracy_figure(Curves((0, 1, 2), (0.1, 0.8, 1.0), (0.1, 0.5, 0.6)))
    test, train = fig.data
    assert list(test.y) == pytest.approx([10.0, 50.0, 60.0])
    assert list(train.y) == pytest.approx([10.0, 80.0, 100.0])
    assert train.fill == "tonexty" and test.fill is None  # the band between them: the gap
    assert Curves((0, 1), (0.2, 0.9), (0.2, 0.55)).gap == pytest.approx(0.35)


def test_the_gallery_figure_has_a_tile_and_a_caption_per_digit() -> None:
    right, wrong = gallery(np.array([3, 5]), np.eye(10)[[3, 2]] * 0.9 + 0.01)
    images = np.zeros((2, 784), dtype=np.float32)
    names = tuple(str(k) for k in range(10))
    fig = gallery_figure(images[:1], (28, 28), right, names)
    assert [a.text for a in fig.layout.annotations] == ["3 (91.0%)"]
    fig = gallery_figure(images[:1], (28, 28), wrong, names)
    assert [a.text for a in fig.layout.annotations] == ["5 → 2 (91.0%)<br>5: 1.0%"]
    assert len(fig.data) == 1
    assert [a.text for a in gallery_figure(images[:0], (28, 28), [], names).layout.annotations] == [
        "none"
    ]


def test_a_check_stopped_inside_an_epoch_counts_the_part_trained() -> None:
    check = Check(TINY, small(MNIST, 640, 100), seed=0)
    check.advance(0.0)  # the first chunk: 4 batches of 64
    check.stop()
    result = check.result()
    assert result.ours_epochs == 0.4 and result.theirs_epochs == 0
    assert not np.isnan(result.ours) and np.isnan(result.theirs)
