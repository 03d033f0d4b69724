"""Why GPUs, the race's logic: the FLOP count, the same batches and losses for every contender,
Stop, and the path without a GPU (no streamlit)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

import explorer.analysis.race as race
from explorer.analysis.race import (
    NUMPY,
    TORCH_CPU,
    TORCH_CUDA,
    Cell,
    Race,
    explain,
    flops_per_sample,
    race_batches,
    race_spec,
    steps_for,
    time_cell,
)
from explorer.data import Dataset, load_mnist_sample
from explorer.engine import LayerSpec, NetworkSpec


@cache
def digits() -> Dataset:
    return load_mnist_sample()


def test_flops_per_sample_is_the_hand_count_of_the_matmuls() -> None:
    # 3-2-1: forward x(1x3)@W1(3x2) and a1(1x2)@W2(2x1); weight gradients the same shapes
    # transposed; the input gradient delta2(1x1)@W2^T(1x2) only (nobody needs dL/dx).
    spec = NetworkSpec(3, (LayerSpec(2, "relu"), LayerSpec(1, "sigmoid")), "mse")
    forward = 2 * 3 * 2 + 2 * 2 * 1
    weight_grads = 2 * 3 * 2 + 2 * 2 * 1
    input_grads = 2 * 2 * 1
    assert flops_per_sample(spec) == forward + weight_grads + input_grads == 36
    # 784-16-16-10: 12,544 + 256 + 160 weights
    assert flops_per_sample(race_spec(16)) == 4 * (12_544 + 256 + 160) + 2 * (256 + 160)


@pytest.mark.parametrize("width", [16, 256, 4096])
def test_the_race_network_costs_six_w_squared_plus_3196_w(width: int) -> None:
    assert race_spec(width).describe() == f"784-{width}-{width}-10"
    assert flops_per_sample(race_spec(width)) == 6 * width**2 + 3196 * width


def test_steps_per_call_shrink_only_for_the_heaviest_cells() -> None:
    assert steps_for(16, 64) == steps_for(256, 64) == race.MAX_STEPS
    assert 1 <= steps_for(4096, 64) < race.MAX_STEPS
    assert steps_for(4096, 512) == 1
    assert steps_for(4096, 64) * flops_per_sample(race_spec(4096)) * 64 <= race.CALL_FLOPS


def test_race_batches_are_full_seeded_and_cross_epoch_ends() -> None:
    batches = race_batches(100, 32, 7)
    assert len(batches) == 7
    assert all(len(b) == 32 for b in batches)  # the epoch's short last batch is skipped
    assert not np.array_equal(batches[0], batches[3])  # the second epoch's first batch
    for a, b in zip(batches, race_batches(100, 32, 7), strict=True):
        np.testing.assert_array_equal(a, b)


def test_numpy_and_torch_train_the_same_batches_to_the_same_losses() -> None:
    pytest.importorskip("torch")
    cells = [time_cell(c, 16, digits(), 32, calls=2, steps=4) for c in (NUMPY, TORCH_CPU)]
    numpy_cell, torch_cell = cells
    assert len(numpy_cell.losses) == 12  # a warm-up call and two timed, of four steps each
    np.testing.assert_allclose(numpy_cell.losses, torch_cell.losses, rtol=1e-5)
    assert numpy_cell.losses[0] != numpy_cell.losses[-1]  # they trained, on different batches
    for cell in cells:
        assert cell.samples_per_s == pytest.approx(4 * 32 / cell.seconds)
        assert cell.flops_per_s == pytest.approx(
            cell.samples_per_s * flops_per_sample(race_spec(16))
        )


def test_a_race_measures_rates_then_every_cell_in_order() -> None:
    pytest.importorskip("torch")
    job = Race(digits(), (32, 16), 16, (NUMPY, TORCH_CPU), calls=1)
    assert job.widths == (16, 32)
    while job.running:
        job.advance(0.0)  # one task per call
    assert job.finished and job.fraction == 1.0 and job.now() == "Race over"
    assert set(job.rates) == {"numpy", "torch-cpu"}
    assert all(rate > 1e8 for rate in job.rates.values())
    assert [(c.contender, c.width) for c in job.cells] == [
        ("numpy", 16),
        ("torch-cpu", 16),
        ("numpy", 32),
        ("torch-cpu", 32),
    ]
    text = " ".join(explain(job))
    assert "At width 16 a step of 16 samples" in text
    assert "At width 32" in text


def test_stop_ends_the_race_between_two_tasks_keeping_what_was_measured() -> None:
    job = Race(digits(), (16, 64, 256), 16, (NUMPY,), calls=1)
    job.advance(0.0)
    job.advance(0.0)
    assert job.done == 2 and len(job.cells) == 1
    job.stop()
    assert not job.running
    job.advance(10.0)
    assert job.done == 2 and len(job.cells) == 1
    assert job.now() == "Race stopped"
    assert job.fraction == pytest.approx(2 / 4)


def test_a_race_needs_a_width_and_a_contender() -> None:
    with pytest.raises(ValueError, match="at least one width"):
        Race(digits(), (), 64, (NUMPY,))
    with pytest.raises(ValueError, match="at least one sample"):
        Race(digits(), (16,), 0, (NUMPY,))


def test_without_a_gpu_only_the_cpu_contenders_race(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(race, "gpu_available", lambda: False)
    assert race.contenders() == (NUMPY, TORCH_CPU)
    monkeypatch.undo()
    monkeypatch.setattr(race, "torch_available", lambda: False)
    assert not race.gpu_available()
    assert race.contenders() == (NUMPY,)


def test_this_machine_sees_a_gpu_exactly_when_torch_does() -> None:
    torch = pytest.importorskip("torch")
    assert race.gpu_available() == torch.cuda.is_available()
    assert (TORCH_CUDA in race.contenders()) == torch.cuda.is_available()


def _cell(contender: str, width: int, seconds: float) -> Cell:
    return Cell(contender, width, 64, 16, seconds, flops_per_sample(race_spec(width)), ())


def _race(*cells: Cell) -> Race:
    keys = {c.contender for c in cells}
    entrants = tuple(c for c in race.CONTENDERS if c.key in keys)
    job = Race(digits(), (16, 4096), 64, entrants)
    job.cells = list(cells)
    job.rates = {c.key: 1e11 for c in entrants}
    job.done = len(job.tasks)
    return job


def test_the_explanation_quotes_the_measured_numbers_without_a_gpu() -> None:
    job = _race(_cell("numpy", 16, 0.004), _cell("numpy", 4096, 16 * 0.2))
    narrow, wide, gpu = explain(job)
    assert "At width 16 a step of 64 samples is only 3.4 MFLOP" in narrow
    assert "NumPy engine (CPU) 0.25 ms" in narrow  # 4 ms for 16 steps
    assert "its arithmetic alone: 0.03 ms" in narrow  # 3.4 MFLOP at 100 GFLOP/s
    assert "7.3 GFLOP, 2,160 times as much arithmetic" in wide
    assert "the step time grew NumPy engine (CPU) 800×" in wide
    assert "36.4 GFLOP/s, 36% of its matmul rate (at width 16: 13%)" in wide
    assert "the arithmetic, not the fixed cost, now sets the pace" in wide
    assert gpu.startswith("No GPU took part here")
    assert "100.0 GFLOP/s" in gpu


def test_the_explanation_gives_the_gpus_gain_at_each_end() -> None:
    job = _race(
        _cell("numpy", 16, 0.004),
        _cell("torch-cuda", 16, 0.008),
        _cell("numpy", 4096, 3.2),
        _cell("torch-cuda", 4096, 0.032),
    )
    gpu = explain(job)[-1]
    assert "0.5× as fast as the best CPU contender at width 16" in gpu
    assert "100.0× at width 4,096" in gpu


def test_a_race_too_narrow_for_the_arithmetic_to_dominate_says_so() -> None:
    job = _race(_cell("numpy", 16, 0.004), _cell("numpy", 4096, 16 * 2.0))  # 3.6 GFLOP/s
    wide = explain(job)[1]
    assert "3.6 GFLOP/s" in wide and "the fixed cost still weighs as much" in wide
    assert "now sets the pace" not in wide


def test_no_explanation_before_both_ends_have_run() -> None:
    assert explain(_race(_cell("numpy", 16, 0.004))) == []
