"""Side-by-side runs (explorer.analysis.compare) and the activation gallery's data
(explorer.analysis.gallery).

The "everything else identical" promise is tested directly: variants get the very same initial
arrays wherever shapes and initialisation match, and train_steps receives the very same batches
in the same order, which is also the Explorer's Stepper order. Each preset is run once and must
show its effect in numbers, with thresholds set well inside what was measured (in comments).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

import explorer.analysis.compare as compare
from explorer.analysis.compare import (
    PRESETS,
    Comparison,
    Variant,
    auto_labels,
    batch_schedule,
    check_variants,
    class_accuracy,
    data_grid,
    dead_share,
    decision_values,
    distinct_units,
    hidden_outputs,
    run_comparison,
    saturated_share,
    summary,
    variants_of,
    vary,
)
from explorer.analysis.gallery import FACTS, curve
from explorer.data import Dataset, load_dataset
from explorer.engine import (
    ACTIVATIONS,
    LayerSpec,
    NetworkSpec,
    Params,
    Stepper,
    epoch_batches,
    init_params,
)
from explorer.state.settings import Settings

BASE = Settings(dataset="circle", n_points=200, noise=0.1, hidden_sizes=(8, 8))


def circle(settings: Settings = BASE) -> Dataset:
    return load_dataset(settings.dataset, **settings.data_params())


def by_label(comparison: Comparison) -> dict[str, Any]:
    return {run.label.split(" · ")[1]: run for run in comparison.runs}


# -- everything else identical ------------------------------------------------------------------
def test_variants_that_share_shapes_start_from_the_same_arrays() -> None:
    settings = [
        vary(BASE, activation="sigmoid"),
        vary(BASE, activation="relu", learning_rate=0.3),
        vary(BASE, activation="gelu", optimizer="adam"),
    ]
    c = run_comparison(variants_of(settings), circle(), 20)
    first = c.runs[0].initial_params
    expected = init_params(
        c.runs[0].spec, np.random.default_rng(BASE.seed), BASE.init, dtype=np.float32
    )
    for run in c.runs:
        assert run.initial_params is first
    for got, want in zip(first.weights, expected.weights, strict=True):
        assert got.dtype == np.float32 and np.array_equal(got, want)
    # and training moved every variant somewhere different
    assert not np.array_equal(c.runs[0].params.weights[0], c.runs[1].params.weights[0])


def test_deeper_and_other_init_variants_draw_their_own_but_same_seed() -> None:
    deep = vary(BASE, depth=3)
    zeros = vary(BASE, init="zeros")
    c = run_comparison(variants_of([BASE, deep, zeros]), circle(), 5)
    base, deeper, zero = (run.initial_params for run in c.runs)
    assert deeper is not base and len(deeper.weights) == 4
    # the same generator draws layer by layer: the layers both have are the same numbers
    for a, b in zip(base.weights[:2], deeper.weights[:2], strict=True):
        assert np.array_equal(a, b)
    assert all(not w.any() for w in zero.weights)


def test_every_variant_trains_on_the_same_batches_in_the_same_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[int, list[np.ndarray]] = {}
    real = compare.train_steps

    def spy(spec: NetworkSpec, params: Params, *args: Any, **kw: Any) -> Any:
        seen.setdefault(id(spec), []).extend(args[-1])
        return real(spec, params, *args, **kw)

    monkeypatch.setattr(compare, "train_steps", spy)
    settings = [vary(BASE, activation=a) for a in ("sigmoid", "tanh", "relu")]
    other_batch = vary(BASE, batch_size=25)
    dataset = circle()
    steps = 37  # more than one epoch of 10-sample batches from 100 training points
    c = run_comparison(variants_of([*settings, other_batch]), dataset, steps, record_every=4)
    orders = [np.concatenate(seen[id(run.spec)]) for run in c.runs]
    assert all(len(seen[id(run.spec)]) == steps for run in c.runs)
    assert np.array_equal(orders[0], orders[1]) and np.array_equal(orders[0], orders[2])
    assert c.runs[0].batches is c.runs[1].batches is c.runs[2].batches
    assert c.runs[3].batches is not c.runs[0].batches
    assert all(len(b) == 25 for b in c.runs[3].batches)
    # the order is the Stepper's, so a variant opened in the Explorer replays the same batches
    s = BASE
    stepper = Stepper(
        s.network_spec(dataset), s.train_config(), dataset.x_train, dataset.y_train, seed=s.seed
    )
    for batch in c.runs[0].batches:
        stepper.finish_step()
        assert np.array_equal(stepper.state.batch_index, batch)


def test_the_explorer_builds_the_same_start() -> None:
    dataset = circle()
    c = run_comparison(variants_of([BASE, vary(BASE, activation="relu")]), dataset, 1)
    stepper = Stepper(
        BASE.network_spec(dataset),
        BASE.train_config(),
        dataset.x_train,
        dataset.y_train,
        seed=BASE.seed,
        init=BASE.init,
    )
    for ours, theirs in zip(
        c.runs[0].initial_params.weights, stepper.state.params.weights, strict=True
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_batch_schedule_runs_on_across_epochs() -> None:
    batches = batch_schedule(25, 10, seed=3, steps=7)
    expected = [b for e in range(3) for b in epoch_batches(25, 10, 3, e)][:7]
    assert len(batches) == 7
    assert all(np.array_equal(a, b) for a, b in zip(batches, expected, strict=True))


# -- running ---------------------------------------------------------------------------------------
def test_progress_is_reported_and_a_stop_leaves_every_variant_at_the_same_step() -> None:
    calls: list[int] = []

    def stop_after_two(c: Comparison) -> bool:
        calls.append(c.step)
        return len(calls) < 3

    variants = variants_of([BASE, vary(BASE, activation="relu")])
    c = run_comparison(variants, circle(), 100, on_progress=stop_after_two, record_every=10)
    assert calls == [0, 10, 20]
    assert not c.finished and c.step == 20
    assert all(run.step == 20 and [r.step for r in run.records] == [0, 10, 20] for run in c.runs)
    assert all(len(run.batch_losses) == 20 for run in c.runs)


def test_a_snapshot_does_not_follow_further_training() -> None:
    snapshots: list[Comparison] = []

    def keep(c: Comparison) -> bool:
        snapshots.append(c.snapshot())
        return True

    run_comparison(
        variants_of([BASE, vary(BASE, activation="relu")]),
        circle(),
        30,
        on_progress=keep,
        record_every=10,
    )
    first = snapshots[1]
    assert first.step == 10
    assert all(run.step == 10 and len(run.records) == 2 for run in first.runs)
    assert all(len(run.batch_losses) == 10 for run in first.runs)
    assert snapshots[-1].runs[0].params is not first.runs[0].params


def test_records_default_to_about_fifty_and_end_on_the_last_step() -> None:
    c = run_comparison(variants_of([BASE, vary(BASE, learning_rate=0.3)]), circle(), 123)
    steps = [r.step for r in c.runs[0].records]
    assert c.finished and steps[0] == 0 and steps[-1] == 123
    assert 40 <= len(steps) <= 52


def test_a_diverging_variant_stops_alone_with_a_finite_network() -> None:
    plane = Settings(
        dataset="plane",
        hidden_sizes=(4,),
        hidden_activations=("sigmoid",),
        head="identity + mean squared error",
        learning_rate=0.03,
    )
    dataset = load_dataset("plane", **plane.data_params())
    c = run_comparison(variants_of([plane, vary(plane, learning_rate=10.0)]), dataset, 200)
    calm, wild = c.runs
    assert calm.failure is None and calm.step == 200
    assert wild.failure is not None and "Lower the learning rate" in wild.failure
    assert wild.step < 200 and wild.params.is_finite()
    assert c.runs[0].last.test_accuracy is None  # regression: no accuracy


def test_variants_must_share_the_data_and_number_two_to_four() -> None:
    with pytest.raises(ValueError, match="2 to 4"):
        check_variants(variants_of([BASE]))
    with pytest.raises(ValueError, match="noise"):
        check_variants(variants_of([BASE, replace(BASE, noise=0.2)]))
    with pytest.raises(ValueError, match="label"):
        check_variants([Variant("x", BASE), Variant("x", BASE)])


def test_vary_changes_depth_and_activations() -> None:
    s = vary(BASE, depth=4, activation="relu", learning_rate=0.3)
    assert s.hidden_sizes == (8, 8, 8, 8) and s.hidden_activations == ("relu",) * 4
    assert s.learning_rate == 0.3 and s.dataset == BASE.dataset
    assert vary(BASE, depth=1).hidden_sizes == (8,)
    assert vary(vary(BASE, depth=0), depth=2).hidden_sizes == (8, 8)


def test_auto_labels_name_what_differs() -> None:
    relu = vary(BASE, activation="relu")
    assert auto_labels([BASE, relu]) == ["A · tanh", "B · relu"]
    fast = vary(relu, learning_rate=1.0)
    assert auto_labels([relu, fast]) == ["A · lr 0.03", "B · lr 1"]
    assert auto_labels([BASE, BASE]) == ["A", "B"]
    mixed = replace(BASE, hidden_activations=("relu", "tanh"))
    assert auto_labels([BASE, mixed])[1] == "B · relu/tanh"


# -- measures --------------------------------------------------------------------------------------
def spec_of(*acts: str) -> NetworkSpec:
    return NetworkSpec(2, (*(LayerSpec(3, a) for a in acts), LayerSpec(1, "sigmoid")))


def test_dead_share_counts_relu_units_negative_on_every_row() -> None:
    spec = spec_of("relu", "tanh", "relu")
    z0 = np.array([[-1.0, 2.0, 0.0], [-3.0, -1.0, 0.0]])  # units 0 and 2 dead
    z2 = np.array([[1.0, -1.0, 5.0], [1.0, -2.0, -5.0]])  # unit 1 dead
    out = np.zeros((2, 1))
    assert dead_share(spec, [z0, np.zeros((2, 3)), z2, out]) == 3 / 6
    assert dead_share(spec_of("tanh"), [z0, out]) is None


def test_saturated_share_uses_each_activation_threshold() -> None:
    spec = spec_of("sigmoid", "tanh")
    z_sig = np.array([[4.5, -4.5, 3.0]])  # beyond 4: two of three
    z_tanh = np.array([[2.5, 1.0, -1.9]])  # beyond 2: one of three
    assert saturated_share(spec, [z_sig, z_tanh, np.zeros((1, 1))]) == 3 / 6
    assert saturated_share(spec_of("relu"), [z_sig, np.zeros((1, 1))]) is None


def test_distinct_units_sees_copies() -> None:
    w = np.array([[1.0, 1.0, 2.0], [0.5, 0.5, 0.5]], dtype=np.float32)
    b = np.array([0.1, 0.1, 0.1], dtype=np.float32)
    params = Params((w,), (b,))
    assert distinct_units(params, 0) == 2
    params = Params((np.zeros((2, 4)),), (np.zeros(4),))
    assert distinct_units(params, 0) == 1


def test_final_views_have_the_right_shapes() -> None:
    dataset = circle()
    c = run_comparison(variants_of([BASE, vary(BASE, depth=3)]), dataset, 10)
    grid = data_grid(dataset, resolution=20)
    assert grid.points.shape == (400, 2)
    both = np.concatenate([dataset.x_train, dataset.x_test])
    assert grid.xs[0] < both[:, 0].min() and grid.ys[-1] > both[:, 1].max()
    values = decision_values(c.runs[0], grid)
    assert values.shape == (20, 20) and 0 <= values.min() <= values.max() <= 1
    assert [a.shape[1] for a in hidden_outputs(c.runs[1], dataset)] == [8, 8, 8]
    acc = class_accuracy(c.runs[0], dataset)
    assert acc.shape == (2,) and np.all((acc >= 0) & (acc <= 1))
    rows = summary(c)
    assert rows[1]["distinct hidden units"] == "all"


def test_class_accuracy_is_per_class() -> None:
    digits = load_dataset("digits-8x8")
    s = Settings(
        dataset="digits-8x8",
        hidden_sizes=(16,),
        hidden_activations=("relu",),
        head="softmax + cross-entropy",
        learning_rate=0.1,
    )
    c = run_comparison(variants_of([s, vary(s, activation="tanh")]), digits, 150)
    acc = class_accuracy(c.runs[0], digits)
    assert acc.shape == (10,)
    # the class shares, weighted by class size, give the overall test accuracy
    counts = np.bincount(digits.y_test, minlength=10)
    overall = float((acc * counts).sum() / counts.sum())
    assert overall == pytest.approx(c.runs[0].last.test_accuracy, abs=1e-9)


# -- presets show their effect ------------------------------------------------------------------
@pytest.fixture(scope="module")
def preset_runs() -> dict[str, Comparison]:
    out = {}
    for key, preset in PRESETS.items():
        dataset = load_dataset(preset.base.dataset, **preset.base.data_params())
        out[key] = run_comparison(preset.variants, dataset, preset.steps)
    return out


def test_every_preset_is_complete_and_runs_clean(preset_runs: dict[str, Comparison]) -> None:
    for key, preset in PRESETS.items():
        c = preset_runs[key]
        assert c.finished and 2 <= len(c.runs) <= 4
        assert preset.explanation and preset.look_at and preset.title
        assert all(run.failure is None for run in c.runs), key
        check_variants(preset.variants)


def test_deep_sigmoid_gradients_vanish(preset_runs: dict[str, Comparison]) -> None:
    runs = by_label(preset_runs["vanishing"])
    sig = runs["sigmoid"]
    # measured: sigmoid's first/last ratio 1.9e-4 at the start, median 7e-4 over the run;
    # tanh 0.94 and relu 0.31 at the start
    assert sig.records[0].gradient_ratio < 2e-3
    assert np.median([r.gradient_ratio for r in sig.records]) < 3e-3
    for other in ("tanh", "relu"):
        assert runs[other].records[0].gradient_ratio > 0.1
    # measured: sigmoid's first layer never gets above 1.1e-5, tanh's and relu's never below
    # 1.7e-2: three orders of magnitude
    first = {k: [r.grad_norms[0] for r in run.records] for k, run in runs.items()}
    assert max(first["sigmoid"]) < 1e-2 * min(min(first["tanh"]), min(first["relu"]))
    # and it shows: sigmoid stays at chance (0.69, 53%), the others learn the circle (96%)
    assert sig.last.train_loss > 0.65 and sig.last.test_accuracy < 0.65
    assert runs["tanh"].last.test_accuracy > 0.9 and runs["relu"].last.test_accuracy > 0.9


def test_too_high_a_rate_kills_relus(preset_runs: dict[str, Comparison]) -> None:
    runs = by_label(preset_runs["dead-relu"])
    # measured: rate 3 ends with 56% dead units, rate 0.03 with none
    assert runs["lr 3"].last.dead > 0.35
    assert runs["lr 0.03"].last.dead < 0.05
    assert max(r.dead for r in runs["lr 0.03"].records) < 0.05
    assert runs["lr 3"].records[0].dead == 0  # it was the training that killed them
    assert runs["lr 3"].last.test_accuracy < 0.65 < 0.9 < runs["lr 0.03"].last.test_accuracy


def test_zero_init_units_stay_identical(preset_runs: dict[str, Comparison]) -> None:
    runs = by_label(preset_runs["zero-init"])
    zeros, xavier = runs["zeros init"], runs["xavier_uniform init"]
    assert zeros.step == xavier.step == PRESETS["zero-init"].steps
    for layer in range(2):
        assert distinct_units(zeros.params, layer) == 1
        assert distinct_units(xavier.params, layer) == 8
    rows = {
        row["variant"]: row["distinct hidden units"] for row in summary(preset_runs["zero-init"])
    }
    assert rows[zeros.label] == "1/8, 1/8" and rows[xavier.label] == "all"
    # the units did train, just all alike: the weights moved off zero
    assert np.abs(zeros.params.weights[1]).max() > 1e-3
    # measured: zeros 53.5% (chance), Xavier 95.5%
    assert zeros.last.test_accuracy < 0.65 and xavier.last.test_accuracy > 0.9


def test_spiral_ranks_the_activations(preset_runs: dict[str, Comparison]) -> None:
    acc = {k: r.last.test_accuracy for k, r in by_label(preset_runs["spiral"]).items()}
    # measured over seeds 0-3: sigmoid 57-58%, tanh 81-98%, relu 97.5-99.5%, gelu 99-99.5%
    assert acc["sigmoid"] < 0.65
    assert acc["relu"] > 0.93 and acc["gelu"] > 0.93
    assert acc["tanh"] > acc["sigmoid"] + 0.15


def test_digits_sigmoid_lags_in_one_epoch(preset_runs: dict[str, Comparison]) -> None:
    acc = {k: r.last.test_accuracy for k, r in by_label(preset_runs["digits"]).items()}
    # measured: sigmoid 37%, tanh 88%, relu 88% after one epoch
    assert acc["sigmoid"] < 0.6
    assert acc["tanh"] > 0.8 and acc["relu"] > 0.8


# -- the activation gallery -----------------------------------------------------------------------
def test_every_activation_has_its_facts() -> None:
    assert set(FACTS) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_gallery_derivative_is_the_numeric_derivative(name: str) -> None:
    z = np.linspace(-6, 6, 1201)
    z = z[np.abs(z) > 1e-3]  # relu-like kinks at 0
    h = 1e-6
    f_plus, _ = curve(name, z + h)
    f_minus, _ = curve(name, z - h)
    _, der = curve(name, z)
    np.testing.assert_allclose(der, (f_plus - f_minus) / (2 * h), atol=1e-6)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_gallery_facts_match_the_curve(name: str) -> None:
    facts = FACTS[name]
    z = np.linspace(-30, 30, 6001)
    f, _ = curve(name, z)
    lo, hi = facts.bounds
    assert lo - 1e-9 <= f.min() and f.max() <= hi + 1e-9
    _, der = curve(name, np.array([-10.0, 10.0]))
    for side, d in zip(("left", "right"), der, strict=True):
        flat_dead = side == "left" and facts.dead_zone.startswith("z ≤")
        if side in facts.saturates:
            assert abs(d) < 0.02, (name, side)
        elif flat_dead:
            assert d == 0
        else:
            assert abs(d) >= 0.005, (name, side)
