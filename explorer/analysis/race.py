"""Why GPUs: the same training steps raced on the NumPy engine, torch on the CPU and torch on
CUDA, as the hidden width grows.

- The network is 784-W-W-10 (ReLU, softmax + cross-entropy, SGD at rate 0.01) in float32: at
  W = 16 the lesson's 784-16-16-10. Every contender starts from the same initial weights and
  trains on the same mini-batches of the same data (``race_batches``), through the trainers
  full training uses (``NumpyTrainer``, the engine's fast path; ``TorchTrainer``, with CUDA
  graphs on a GPU), overflow checks included.
- A cell is one contender at one width: one untimed call (allocations, CUDA graph capture),
  then ``calls`` timed calls of the same number of steps, each call ending with the losses on
  the host (so a GPU has finished); the cell keeps the median call. The steps per call are
  ``MAX_STEPS`` where that is cheap and fewer for the heaviest cells (``steps_for``), so that a
  whole race stays short on a small CPU.
- Achieved FLOP/s counts only the matmuls (``flops_per_sample``); each contender is set
  against the measured float32 matmul rate of its own library on its own device
  (``matmul_rate``), the most that arithmetic could give.
- ``Race`` runs the matmul rates, then the cells, in chunks of about a time budget, so a page
  can redraw a progress bar between them and a Stop can land; ``explain`` turns the measured
  numbers into sentences.

No streamlit here; torch is imported only by the torch contenders. Left out: mixed precision,
TF32 (torch's default keeps it off), torch.compile, several GPUs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from explorer.data import Dataset
from explorer.engine import (
    LayerSpec,
    NetworkSpec,
    NonFiniteError,
    TrainConfig,
    encode_targets,
    epoch_batches,
    init_params,
)
from explorer.engine.types import Array
from explorer.torch_backend import torch_available
from explorer.training.full import NumpyTrainer, Trainer

WIDTHS = (16, 64, 256, 1024, 4096)
BATCH_SIZES = (16, 32, 64, 128, 256, 512)
DEFAULT_BATCH = 64
MAX_STEPS = 16  # steps per call where cheap: one CUDA graph's worth (GRAPH_STEPS)
CALL_FLOPS = 16e9  # the most matmul FLOPs a call aims at: ~0.3 s on a two-core CPU
CALLS = 3  # timed calls per cell; the cell keeps the median
RECIPE = TrainConfig(optimizer="sgd", learning_rate=0.01)
SEED = 0
MATMUL_SIZE = {"cpu": 1024, "cuda": 4096}  # the square matmul that measures a device
TAKEN_OVER = 2  # FLOP/s at the widest width over the narrowest: the arithmetic dominates


@dataclass(frozen=True)
class Contender:
    """One way of training: a library on a device."""

    key: str
    title: str
    library: str  # "numpy" or "torch"
    device: str  # "cpu" or "cuda"


NUMPY = Contender("numpy", "NumPy engine (CPU)", "numpy", "cpu")
TORCH_CPU = Contender("torch-cpu", "torch (CPU)", "torch", "cpu")
TORCH_CUDA = Contender("torch-cuda", "torch (CUDA)", "torch", "cuda")
CONTENDERS = (NUMPY, TORCH_CPU, TORCH_CUDA)


def gpu_available() -> bool:
    """Whether torch is installed and sees a CUDA device."""
    if not torch_available():
        return False
    import torch

    return bool(torch.cuda.is_available())


def contenders() -> tuple[Contender, ...]:
    """Those that can run here: NumPy always, torch on the CPU when installed, CUDA when seen."""
    here = [NUMPY]
    if torch_available():
        here.append(TORCH_CPU)
    if gpu_available():
        here.append(TORCH_CUDA)
    return tuple(here)


def race_spec(width: int) -> NetworkSpec:
    """784-W-W-10, ReLU hidden layers, softmax + cross-entropy."""
    hidden = (LayerSpec(width, "relu"), LayerSpec(width, "relu"))
    return NetworkSpec(784, (*hidden, LayerSpec(10, "softmax")), "cross_entropy")


def flops_per_sample(spec: NetworkSpec) -> int:
    """Matmul FLOPs of one sample's forward and backward pass.

    Each weight w of a layer with n_in inputs and n_out outputs (n_in * n_out weights) costs
    2 FLOPs (a multiply and an add) in the forward pass z = a W, 2 in its gradient
    dL/dW = a^T delta, and 2 in the input gradient dL/da = delta W^T, which the first layer
    never forms (nobody needs dL/dx). So with weight counts m_1 .. m_L:

        FLOPs = 4 (m_1 + ... + m_L) + 2 (m_2 + ... + m_L)

    For 784-W-W-10 that is 6 W^2 + 3,196 W: linear in W while W is small, quadratic once
    W passes a few hundred. Biases, activations, the loss and the update are left out (they
    grow with W, not W^2, and are not matmuls).
    """
    s = spec.sizes
    weights = [s[i] * s[i + 1] for i in range(len(s) - 1)]
    return 4 * sum(weights) + 2 * sum(weights[1:])


def steps_for(width: int, batch_size: int) -> int:
    """Steps per call: ``MAX_STEPS``, fewer when a call would pass ``CALL_FLOPS`` (at least 1)."""
    per_step = flops_per_sample(race_spec(width)) * batch_size
    return int(max(1, min(MAX_STEPS, CALL_FLOPS // per_step)))


def race_batches(n: int, batch_size: int, count: int, seed: int = SEED) -> list[Array]:
    """The first ``count`` full mini-batches of the engine's epochs (seeded), over epoch ends."""
    batches: list[Array] = []
    epoch = 0
    while len(batches) < count:
        batches += [b for b in epoch_batches(n, batch_size, seed, epoch) if len(b) == batch_size]
        epoch += 1
    return batches[:count]


def make_trainer(contender: Contender, width: int, x: Array, y: Array) -> Trainer:
    """A fresh trainer of ``race_spec(width)`` from the seed's initial weights, in float32."""
    spec = race_spec(width)
    params = init_params(spec, np.random.default_rng(SEED), "he_uniform", dtype=np.float32)
    target = encode_targets(spec, y, np.float32)
    if contender.library == "numpy":
        return NumpyTrainer(spec, params, RECIPE, x, target)
    from explorer.torch_backend.trainer import TorchTrainer

    return TorchTrainer(spec, params, RECIPE, x, target, device=contender.device)


@dataclass(frozen=True)
class Cell:
    """One contender at one width: ``seconds`` is the median timed call of ``steps`` steps;
    ``losses`` every step's loss, warm-up first."""

    contender: str
    width: int
    batch_size: int
    steps: int
    seconds: float
    flops_per_sample: int
    losses: tuple[float, ...]

    @property
    def step_seconds(self) -> float:
        return self.seconds / self.steps

    @property
    def samples_per_s(self) -> float:
        return self.steps * self.batch_size / self.seconds

    @property
    def flops_per_s(self) -> float:
        return self.samples_per_s * self.flops_per_sample

    @property
    def flops_per_step(self) -> int:
        return self.flops_per_sample * self.batch_size


def time_cell(
    contender: Contender,
    width: int,
    dataset: Dataset,
    batch_size: int,
    *,
    calls: int = CALLS,
    steps: int | None = None,
) -> Cell:
    """Train ``contender`` at ``width``: one warm-up call, then ``calls`` timed calls of
    ``steps`` steps (``steps_for`` by default). Raises NonFiniteError if training overflows."""
    steps = steps or steps_for(width, batch_size)
    trainer = make_trainer(contender, width, dataset.x_train, dataset.y_train)
    batches = race_batches(len(dataset.x_train), batch_size, (calls + 1) * steps)
    losses = list(trainer.train_batches(batches[:steps]))
    times = []
    for k in range(1, calls + 1):
        began = time.perf_counter()
        done = trainer.train_batches(batches[k * steps : (k + 1) * steps])  # on the host: synced
        times.append(time.perf_counter() - began)
        losses += list(done)
    flops = flops_per_sample(race_spec(width))
    return Cell(
        contender.key,
        width,
        batch_size,
        steps,
        statistics.median(times),
        flops,
        tuple(float(v) for v in losses),
    )


def matmul_rate(contender: Contender, repeats: int = 3) -> float:
    """float32 FLOP/s of a square matmul (``MATMUL_SIZE``) in the contender's library on its
    device: the best of ``repeats`` timed rounds of a few products, after one untimed."""
    n = MATMUL_SIZE[contender.device]
    rounds = 3 if contender.device == "cpu" else 10
    product = _numpy_product(n) if contender.library == "numpy" else _torch_product(contender, n)
    product()
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        for _ in range(rounds):
            product()
        best = min(best, time.perf_counter() - began)
    return rounds * 2 * n**3 / best


def _numpy_product(n: int) -> Callable[[], object]:
    rng = np.random.default_rng(SEED)
    a, b = (rng.random((n, n), dtype=np.float32) for _ in range(2))
    out = np.empty((n, n), np.float32)
    return lambda: np.matmul(a, b, out=out)


def _torch_product(contender: Contender, n: int) -> Callable[[], object]:
    import torch

    a, b = (torch.rand(n, n, device=contender.device) for _ in range(2))
    out = torch.empty(n, n, device=contender.device)

    def product() -> None:
        torch.mm(a, b, out=out)
        if contender.device == "cuda":
            torch.cuda.synchronize()

    return product


@dataclass
class Race:
    """The matmul rate of each contender, then every (width, contender) cell, in order.

    What a page keeps in its session: ``advance`` runs tasks for about a time budget,
    ``stop`` ends the race between two tasks, keeping what was measured.
    """

    dataset: Dataset
    widths: tuple[int, ...]
    batch_size: int
    entrants: tuple[Contender, ...]
    calls: int = CALLS
    rates: dict[str, float] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    done: int = 0
    stopped: bool = False
    failure: str | None = None

    def __post_init__(self) -> None:
        if not self.widths or not self.entrants:
            raise ValueError("A race needs at least one width and one contender.")
        if self.batch_size < 1:
            raise ValueError(f"A batch holds at least one sample, not {self.batch_size}.")
        self.widths = tuple(sorted(set(self.widths)))

    @property
    def tasks(self) -> list[tuple[Contender, int | None]]:
        """(contender, None): its matmul rate; (contender, width): a cell."""
        rates: list[tuple[Contender, int | None]] = [(c, None) for c in self.entrants]
        return rates + [(c, w) for w in self.widths for c in self.entrants]

    @property
    def fraction(self) -> float:
        return self.done / len(self.tasks)

    @property
    def finished(self) -> bool:
        return self.done >= len(self.tasks)

    @property
    def running(self) -> bool:
        return not (self.finished or self.stopped or self.failure)

    def now(self) -> str:
        """What the next task measures, for a progress bar."""
        if not self.running:
            return "Race over" if self.finished else "Race stopped"
        contender, width = self.tasks[self.done]
        what = "matmul rate" if width is None else f"width {width:,}"
        return f"{contender.title}: {what} ({self.done + 1} of {len(self.tasks)})"

    def stop(self) -> None:
        self.stopped = True

    def advance(self, budget_s: float) -> None:
        """Run tasks for about ``budget_s`` seconds (at least one)."""
        deadline = time.perf_counter() + budget_s
        while self.running:
            self._run(*self.tasks[self.done])
            if time.perf_counter() >= deadline:
                return

    def _run(self, contender: Contender, width: int | None) -> None:
        try:
            if width is None:
                self.rates[contender.key] = matmul_rate(contender)
            else:
                cell = time_cell(contender, width, self.dataset, self.batch_size, calls=self.calls)
                self.cells.append(cell)
        except NonFiniteError as exc:
            self.failure = f"{contender.title} at width {width}: {exc}"
        except MemoryError:
            self.failure = f"{contender.title} ran out of memory at width {width}."
        self.done += 1

    def cell(self, contender: str, width: int) -> Cell | None:
        return next((c for c in self.cells if c.contender == contender and c.width == width), None)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms"


def _flops(value: float) -> str:
    for unit, scale in (("TFLOP", 1e12), ("GFLOP", 1e9), ("MFLOP", 1e6)):
        if value >= scale:
            return f"{value / scale:,.1f} {unit}"
    return f"{value:,.0f} FLOP"


def explain(race: Race, titles: Sequence[Contender] = CONTENDERS) -> list[str]:
    """Sentences from the measured numbers: the narrowest width's per-step time against its
    FLOPs (overhead), the widest's share of the matmul rate (arithmetic), the GPU's speed-up
    over the best CPU contender at each end when there is one. Empty until both ends ran."""
    title = {c.key: c.title for c in titles}
    narrow, wide = race.widths[0], race.widths[-1]
    small = [c for c in race.cells if c.width == narrow]
    big = [c for c in race.cells if c.width == wide]
    if not small or not big or narrow == wide:
        return []
    lines = []
    per_step = "; ".join(
        f"{title[c.contender]} {_ms(c.step_seconds)}{_bare(c, race)}" for c in small
    )
    first = small[0]
    lines.append(
        f"At width {narrow:,} a step of {first.batch_size} samples is only "
        f"{_flops(first.flops_per_step)} of matmuls, yet it takes {per_step}. The time goes "
        "to the fixed cost of every step (Python, library calls, on a GPU kernel launches and "
        "the copy of the loss back), which no amount of parallel hardware makes smaller."
    )
    growth = big[0].flops_per_step / first.flops_per_step
    best_big = max(big, key=lambda c: c.flops_per_s)
    slow = {c.contender: c.step_seconds for c in small}
    times = ", ".join(
        f"{title[c.contender]} {c.step_seconds / slow[c.contender]:,.0f}×"
        for c in big
        if c.contender in slow
    )
    before = next((c for c in small if c.contender == best_big.contender), None)
    taken_over = before is not None and best_big.flops_per_s >= TAKEN_OVER * before.flops_per_s
    verdict = (
        "the arithmetic, not the fixed cost, now sets the pace, and more arithmetic per "
        "second is what parallel hardware sells."
        if taken_over
        else "the fixed cost still weighs as much as the arithmetic here; race wider "
        "networks to see the arithmetic take over."
    )
    lines.append(
        f"At width {wide:,} a step is {_flops(big[0].flops_per_step)}, {growth:,.0f} times as "
        f"much arithmetic (6W² grows with the square of the width), and the step time grew "
        f"{times}. {title[best_big.contender]} reaches {_flops(best_big.flops_per_s)}/s, "
        f"{_share(best_big, race)} of its matmul rate{_then(before, race)}: {verdict}"
    )
    lines.append(_gpu_sentence(race, small, big))
    return lines


def _bare(cell: Cell, race: Race) -> str:
    """What the step's arithmetic alone would take at the contender's matmul rate."""
    rate = race.rates.get(cell.contender)
    return f" (its arithmetic alone: {_ms(cell.flops_per_step / rate)})" if rate else ""


def _then(before: Cell | None, race: Race) -> str:
    """The same contender's share at the narrowest width, for comparison."""
    return f" (at width {before.width:,}: {_share(before, race)})" if before else ""


def _share(cell: Cell, race: Race) -> str:
    rate = race.rates.get(cell.contender)
    return f"{cell.flops_per_s / rate:.0%}" if rate else "an unmeasured share"


def _gpu_sentence(race: Race, small: Sequence[Cell], big: Sequence[Cell]) -> str:
    def split(cells: Sequence[Cell]) -> tuple[Cell | None, Cell | None]:
        cpu = [c for c in cells if c.contender != TORCH_CUDA.key]
        gpu = [c for c in cells if c.contender == TORCH_CUDA.key]
        return max(cpu, key=lambda c: c.samples_per_s, default=None), next(iter(gpu), None)

    (cpu_small, gpu_small), (cpu_big, gpu_big) = split(small), split(big)
    if gpu_small is None or gpu_big is None or cpu_small is None or cpu_big is None:
        cpu_rate = max((race.rates.get(c.key, 0.0) for c in race.entrants), default=0.0)
        return (
            "No GPU took part here, so the race shows only the CPU's side: this CPU multiplies "
            f"matrices at {_flops(cpu_rate)}/s. A GPU's matmul rate is tens to hundreds of "
            "times that, which only pays off once a step holds enough arithmetic to hide its "
            "fixed cost, as the wide network does."
        )
    gain_small = gpu_small.samples_per_s / cpu_small.samples_per_s
    gain_big = gpu_big.samples_per_s / cpu_big.samples_per_s
    return (
        f"The GPU trains {gain_small:,.1f}× as fast as the best CPU contender at width "
        f"{gpu_small.width:,} and {gain_big:,.1f}× at width {gpu_big.width:,}: its thousands "
        "of cores help only when each step gives them enough to do."
    )
