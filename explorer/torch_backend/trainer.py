"""Training on torch: the engine's batches and optimizer conventions, fast on a GPU.

``TorchTrainer`` trains a ``NetworkSpec``, or a CNN's ``ConvNetSpec``
(``explorer.torch_backend.conv_model``), from the engine's ``Params`` on mini-batches given
as index arrays (``explorer.engine.epoch_batches``, so both backends see the same batches):

- optimizers are ``torch.optim.SGD`` / ``SGD(momentum)`` / ``Adam`` with two parameter
  groups, l2 as ``weight_decay`` on the weights only, and l1 added to the weight gradients as
  ``l1 * sign(w)`` before the step: the engine's conventions, number for number in float64;
- the whole dataset sits on the device when it fits (half the free GPU memory); each batch
  is gathered there with ``index_select`` from an index tensor sent once per call. A set
  that does not fit stays in host memory and each batch is copied over (no CUDA graphs);
- on CUDA, runs of ``GRAPH_STEPS`` equal-sized steps (forward, backward, l1, optimizer step)
  are captured once as a CUDA graph reading a static index buffer and replayed: per-step
  Python and launch overhead is what limits a small network. Everything else (the CPU, MPS,
  a short last batch, DistributedDataParallel) runs the very same step eagerly;
- a call that produces NaN or inf is rolled back whole and replayed step by step to name the
  phase and layer (the engine's ``NonFiniteError``), keeping the last finite network.

Left out: torch.compile (a compile step and Triton for what CUDA graphs already remove),
mixed precision, learning-rate schedules.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
import torch.distributed as dist

from explorer.engine.conv import ConvNetSpec
from explorer.engine.errors import NonFiniteError
from explorer.engine.losses import encode_targets
from explorer.engine.metrics import Evaluation
from explorer.engine.spec import NetworkSpec, Params, TrainConfig
from explorer.engine.types import Array
from explorer.torch_backend import DeviceError
from explorer.torch_backend.conv_model import (
    ConvNet,
    build_conv_model,
    conv_model_params,
    conv_trace_step,
)
from explorer.torch_backend.distributed import World
from explorer.torch_backend.model import (
    DTYPES,
    MLP,
    build_model,
    loss_mean,
    model_params,
    predict_classes,
    takes_logits,
)
from explorer.torch_backend.phases import trace_step

Tensor = torch.Tensor
GRAPH_STEPS = 16  # steps per CUDA graph replay
GRAPH_WARMUP = 2  # eager runs before capture (allocator, cuBLAS workspace, optimizer state)
EVAL_CHUNK = 8192  # rows per evaluation forward pass
FIT_SHARE = 0.5  # the data stays on the GPU if it takes at most this share of free memory


def available_devices() -> tuple[str, ...]:
    """The devices torch can use here, in the order "auto" prefers them."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if torch.backends.mps.is_available():
        found.append("mps")
    return (*found, "cpu")


def select_device(choice: str = "auto") -> str:
    """ "auto" -> cuda, then mps, then cpu; a named device is checked to be there."""
    devices = available_devices()
    if choice == "auto":
        return devices[0]
    if choice.split(":")[0] not in devices:
        raise DeviceError(f"No {choice} device here; available: {', '.join(devices)}.")
    return choice


def device_name(device: torch.device) -> str:
    """A readable name: the GPU's model on CUDA."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def data_fits(nbytes: int, device: torch.device) -> bool:
    """Whether a dataset of ``nbytes`` should live on ``device`` (always on cpu and mps)."""
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes <= FIT_SHARE * free


def _host_tensor(arr: Array, dtype: torch.dtype) -> Tensor:
    """``arr`` as a CPU tensor, without a copy when the dtypes agree. Datasets are read-only
    arrays and nothing here writes to them, so torch's warning about that is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.as_tensor(arr).to(dtype)


def _optimizer(
    config: TrainConfig, model: MLP | ConvNet, *, capturable: bool
) -> torch.optim.Optimizer:
    groups = [
        {"params": model.weights(), "weight_decay": config.l2},
        {"params": model.biases(), "weight_decay": 0.0},
    ]
    if config.optimizer == "adam":
        # capturable keeps Adam's step count on the GPU, which a CUDA graph needs
        return torch.optim.Adam(
            groups,
            lr=config.learning_rate,
            betas=(config.beta1, config.beta2),
            eps=config.eps,
            capturable=capturable,
        )
    momentum = config.momentum if config.optimizer == "momentum" else 0.0
    return torch.optim.SGD(groups, lr=config.learning_rate, momentum=momentum)


class TorchTrainer:
    """Trains ``spec`` from ``params`` on (x, target), target as ``encode_targets`` makes it
    (for a CNN, of its dense part ``spec.head``, which is also what ``self.spec`` is then).

    ``device``: "auto" or a name (ignored under ``world``, which fixes it); ``dtype``:
    "float32" to train, "float64" for checks; ``world``: this process's DDP rank.
    """

    def __init__(
        self,
        spec: NetworkSpec | ConvNetSpec,
        params: Params,
        config: TrainConfig,
        x: Array,
        target: Array,
        *,
        device: str = "auto",
        dtype: str = "float32",
        cuda_graphs: bool = True,
        world: World | None = None,
    ) -> None:
        self.net_spec, self.config, self.world = spec, config, world
        self.spec = spec.head if isinstance(spec, ConvNetSpec) else spec  # what the loss sees
        self.device = torch.device(world.device if world else select_device(device))
        if self.device.type == "mps" and dtype == "float64":
            raise DeviceError("MPS has no float64; train in float32 or on the cpu.")
        self.dtype = DTYPES[dtype]
        self.np_dtype = np.dtype(dtype)
        self.model: MLP | ConvNet = (
            build_conv_model(spec, params, dtype=self.dtype, device=self.device)
            if isinstance(spec, ConvNetSpec)
            else build_model(spec, params, dtype=self.dtype, device=self.device)
        )
        self._net: torch.nn.Module = self.model
        if world is not None:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self._net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self._x_host, self._t_host = x, target
        self.resident = data_fits(x.size * self.dtype.itemsize + target.nbytes, self.device)
        home = self.device if self.resident else torch.device("cpu")
        t_dtype = torch.long if self.spec.loss == "cross_entropy" else self.dtype
        self._x = _host_tensor(x, self.dtype).to(home)
        self._t = _host_tensor(target, t_dtype).to(home)
        self.use_graphs = (
            cuda_graphs and self.device.type == "cuda" and world is None and self.resident
        )
        self._opt = _optimizer(config, self.model, capturable=self.use_graphs)
        self._graphs: dict[int, _CudaGraphSteps] = {}

    # -- what the callers use --------------------------------------------------------------
    def describe(self) -> str:
        """Device, where the data lives, and how steps run, for the UI and the CLI."""
        where = "on the device" if self.resident else "streamed from host memory"
        how = "CUDA graphs" if self.use_graphs else "eager steps"
        ranks = f", {self.world.size} processes (DDP)" if self.world else ""
        return f"torch on {device_name(self.device)}, data {where}, {how}{ranks}"

    def params(self) -> Params:
        """The current parameters as the engine's ``Params`` (in the training dtype)."""
        if isinstance(self.model, ConvNet):
            return conv_model_params(self.model)
        return model_params(self.model)

    def train_batches(self, batches: Sequence[Array]) -> Array:
        """One step per index array (global batches under DDP); returns each step's loss.

        Raises NonFiniteError naming where NaN or inf appeared; the parameters and optimizer
        state are then those from before this call.
        """
        if not batches:
            return np.empty(0)
        start = self._snapshot()
        losses = self._run(batches)
        if not self._finite(losses):
            self._restore(start)
            failure = self._locate(batches)
            self._restore(start)
            raise failure
        return losses.cpu().numpy().astype(np.float64)

    def evaluate(self, x: Array, y: Array, *, classify: bool) -> Evaluation:
        """Mean loss and accuracy on (x, y), y as the dataset holds it (engine's ``evaluate``)."""
        target = encode_targets(self.spec, y, self.np_dtype)
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        correct = torch.zeros((), dtype=torch.long, device=self.device)
        logits = takes_logits(self.spec)
        with torch.no_grad():
            for lo in range(0, len(x), EVAL_CHUNK):
                xs = _host_tensor(x[lo : lo + EVAL_CHUNK], self.dtype).to(self.device)
                ts = torch.as_tensor(target[lo : lo + EVAL_CHUNK], device=self.device)
                zs, outs = self.model.layers(xs)
                total += loss_mean(self.spec, zs[-1] if logits else outs[-1], ts) * len(xs)
                if classify:
                    ys = _host_tensor(y[lo : lo + EVAL_CHUNK], torch.long).to(self.device)
                    correct += (predict_classes(outs[-1]) == ys).sum()
        n = len(x)
        return Evaluation(total.item() / n, correct.item() / n if classify else None)

    # -- steps -----------------------------------------------------------------------------
    def _local(self, batch: Array) -> Array:
        return self.world.local_rows(batch) if self.world else batch

    def _step(self, rows: Tensor, batch: int, loss_out: Tensor) -> None:
        """One optimizer step on ``rows``, this rank's share of a global batch of ``batch``."""
        x = self._x.index_select(0, rows).to(self.device, non_blocking=True)
        t = self._t.index_select(0, rows).to(self.device, non_blocking=True)
        self._opt.zero_grad(set_to_none=True)
        out = self._net(x)
        n = rows.shape[0]
        if n == batch:
            share = loss_mean(self.spec, out, t)
        elif n:
            # this rank's part of the global batch's mean (every loss averages over samples)
            share = loss_mean(self.spec, out, t) * (n / batch)
        else:  # more ranks than rows: take part in DDP's gradient exchange with zeros
            share = out.sum() * 0.0
        # DDP averages gradients over ranks; scaling by their number makes it their sum,
        # i.e. the gradient of the whole global batch's mean loss.
        torch.autograd.backward(share * self.world.size if self.world else share)
        if self.config.l1:
            with torch.no_grad():
                for w in self.model.weights():
                    assert w.grad is not None
                    w.grad.add_(torch.sign(w), alpha=self.config.l1)
        self._opt.step()
        loss_out.copy_(share.detach())

    def _steps(self, rows: Tensor, batch: int, losses: Tensor) -> None:
        """len(losses) consecutive steps of ``batch`` rows each (what a CUDA graph holds)."""
        for k in range(len(losses)):
            self._step(rows[k * batch : (k + 1) * batch], batch, losses[k])

    def _graphable(self, batches: Sequence[Array], i: int) -> bool:
        run = batches[i : i + GRAPH_STEPS]
        return self.use_graphs and len(run) == GRAPH_STEPS and len({len(b) for b in run}) == 1

    def _graph(self, batch: int) -> _CudaGraphSteps:
        graph = self._graphs.get(batch)
        if graph is None:
            graph = self._graphs[batch] = _CudaGraphSteps(self, batch)
        return graph

    def _run(self, batches: Sequence[Array]) -> Tensor:
        local = [self._local(b) for b in batches]
        rows = torch.from_numpy(np.concatenate(local)).to(self._x.device, non_blocking=True)
        starts = np.concatenate([[0], np.cumsum([len(r) for r in local])])
        losses = torch.empty(len(batches), dtype=self.dtype, device=self.device)
        i = 0
        while i < len(batches):
            n, lo = len(batches[i]), int(starts[i])
            if self._graphable(batches, i):
                self._graph(n).run(rows[lo : lo + GRAPH_STEPS * n], losses[i : i + GRAPH_STEPS])
                i += GRAPH_STEPS
            else:
                self._step(rows[lo : int(starts[i + 1])], n, losses[i])
                i += 1
        if self.world:
            dist.all_reduce(losses)  # each rank holds its share of every batch's mean loss
        return losses

    # -- overflow: snapshots, checks, diagnosis ---------------------------------------------
    def _state_tensors(self) -> dict[tuple[int, str], Tensor]:
        """Every parameter and optimizer buffer, by (parameter index, name)."""
        out: dict[tuple[int, str], Tensor] = {}
        for i, p in enumerate(self.model.parameters()):
            out[(i, "param")] = p
            for name, value in self._opt.state.get(p, {}).items():
                if isinstance(value, Tensor):
                    out[(i, name)] = value
        return out

    def _snapshot(self) -> dict[tuple[int, str], Tensor]:
        return {key: t.detach().clone() for key, t in self._state_tensors().items()}

    def _restore(self, snapshot: dict[tuple[int, str], Tensor]) -> None:
        """Copy a snapshot back in place (CUDA graphs keep their addresses). Optimizer buffers
        made since are zeroed, which is exactly a fresh state: Adam starts its moments and
        step count at 0, and a zero momentum buffer makes the next one the gradient itself."""
        with torch.no_grad():
            for key, t in self._state_tensors().items():
                if key in snapshot:
                    t.copy_(snapshot[key])
                else:
                    t.zero_()

    def _finite(self, losses: Tensor) -> bool:
        checks = [
            torch.isfinite(losses).all(),
            *(torch.isfinite(p).all() for p in self.model.parameters()),
        ]
        return bool(torch.stack(checks).all())

    def _locate(self, batches: Sequence[Array]) -> NonFiniteError:
        """Replay ``batches`` eagerly, one step at a time, until one overflows; name where."""
        loss = torch.empty(1, dtype=self.dtype, device=self.device)
        for batch in batches:
            before = self._snapshot()
            rows = torch.tensor(self._local(batch), device=self._x.device)
            self._step(rows, len(batch), loss[0])
            if self.world:
                dist.all_reduce(loss)
            if not self._finite(loss):
                after = self.params()
                self._restore(before)
                return self._diagnose(batch, after)
        return NonFiniteError("update", None)

    def _diagnose(self, batch: Array, after: Params) -> NonFiniteError:
        """Run the traced phases on the failing batch; if they stay finite, the update did."""
        x = np.asarray(self._x_host[batch], dtype=self.np_dtype)
        try:
            if isinstance(self.net_spec, ConvNetSpec):
                conv_trace_step(self.net_spec, self.params(), x, self._t_host[batch])
            else:
                trace_step(
                    self.spec, self.params(), x, self._t_host[batch], device=str(self.device)
                )
        except NonFiniteError as exc:
            return exc
        bad = (
            i
            for i, (w, b) in enumerate(zip(after.weights, after.biases, strict=True))
            if not (np.isfinite(w).all() and np.isfinite(b).all())
        )
        return NonFiniteError("update", next(bad, None))


class _CudaGraphSteps:
    """GRAPH_STEPS steps of one batch size, captured once as a CUDA graph. CUDA only.

    The graph reads its rows from a static index buffer and writes its losses to a static
    buffer; replaying it runs every kernel of those steps with no Python in between. The
    warm-up runs before capture are undone (``TorchTrainer._restore``), so they train nothing.
    """

    def __init__(self, trainer: TorchTrainer, batch: int) -> None:
        device = trainer.device
        self.rows = torch.zeros(GRAPH_STEPS * batch, dtype=torch.long, device=device)
        self.losses = torch.zeros(GRAPH_STEPS, dtype=trainer.dtype, device=device)
        before = trainer._snapshot()
        side = torch.cuda.Stream(device)  # type: ignore[no-untyped-call]
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side), warnings.catch_warnings():
            # Adam warns once that a capturable optimizer is stepping outside a graph
            warnings.filterwarnings("ignore", "This instance was constructed with capturable")
            for _ in range(GRAPH_WARMUP):
                trainer._steps(self.rows, batch, self.losses)
        torch.cuda.current_stream(device).wait_stream(side)
        trainer._restore(before)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            trainer._steps(self.rows, batch, self.losses)

    def run(self, rows: Tensor, losses: Tensor) -> None:
        self.rows.copy_(rows)
        self.graph.replay()
        losses.copy_(self.losses)
