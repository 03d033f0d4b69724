"""The Train page's body: full training of the sidebar's network, on NumPy or PyTorch.

The user picks a backend, a device, epochs and a batch size; Train starts a ``FullTraining`` kept
in this session's state. A timed fragment (``explorer.ui.job_fragment``) advances the job by
one chunk per tick and redraws the progress bars and curves, so the page never
freezes and Stop (a callback, run between two ticks) lands at once, keeping what was trained.
Each session trains in its own script thread, so other users are not held up; a job pauses
while its page is not shown and carries on when the user comes back.

Full MNIST can be downloaded from here (once, checked) into the sidebar's dataset menu.
When the Convolution page has a CNN, the page trains either network; "Open in Explorer" (or
"Open in Convolution") hands the trained parameters to the stepwise view; "Export config" saves
the run for ``python -m explorer.training.cli``, whose parameters file this page opens too. The
Explorer's current mini-batch can be recomputed by torch autograd, side by side. Torch is
imported only once the PyTorch backend is chosen; without it the option is disabled and the
page says how to install it.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

import explorer.torch_backend as tb
from explorer.data import DataError, download_mnist, mnist_downloaded
from explorer.engine import NonFiniteError, SpecError
from explorer.figures import curves_figure
from explorer.state.run_config import RunConfig, load_params, to_json
from explorer.state.settings import limits
from explorer.training.full import FullTraining
from explorer.ui import keys
from explorer.ui.conv_full_training import (
    conv_run_config,
    open_in_convolution,
    page_cnn,
    start_from,
)
from explorer.ui.guard import Commit, guard, show_refusal
from explorer.ui.job_fragment import job_fragment
from explorer.ui.page import open_in_explorer
from explorer.ui.session import Metrics, Run, epochs_text

MAX_UI_EPOCHS = 1000
MAX_CURVE_POINTS = 600
BACKEND_TITLES = {"numpy": "NumPy", "torch": "PyTorch"}
PARAMS_FILE_ROOM = 1024 * 1024  # in an uploaded parameters file, beyond its weights


# -- actions (callbacks) ---------------------------------------------------------------------
def _start(run: Run, config: RunConfig, from_explorer: bool) -> None:
    params = run.stepper.state.params if from_explorer else None
    dataset = run.dataset
    cnn = page_cnn()
    if config.conv_blocks is not None and cnn is not None:
        params, dataset = start_from(cnn), cnn.dataset
    try:
        st.session_state[keys.FULL_TRAINING_JOB] = FullTraining(config, dataset, params=params)
        st.session_state[keys.FULL_TRAINING_ERROR] = None
    except (SpecError, tb.DeviceError, tb.TorchMissingError) as exc:
        st.session_state[keys.FULL_TRAINING_ERROR] = str(exc)


def _stop() -> None:
    job: FullTraining | None = st.session_state.get(keys.FULL_TRAINING_JOB)
    if job is not None:
        job.stop()


def _open(job: FullTraining) -> None:
    """The trained network in the Explorer, which counts on from where training stopped."""
    backend = BACKEND_TITLES[job.config.backend]
    note = f"Opened the network trained for {job.step:,} steps on {backend}."
    position = job.position * job.config.settings.batch_size  # 0 after a finished epoch
    at = (job.epoch, job.step, position)
    last = job.epochs[-1]
    figures = None
    if last.step == job.step:  # evaluated as it stands: after its last epoch, or at Stop
        trained = job.epochs_trained
        metrics = Metrics(
            job.step,
            None,
            last.train_loss,
            last.test_loss,
            last.train_accuracy,
            last.test_accuracy,
            epochs=trained,
        )
        figures = (metrics, "Full training")
    open_in_explorer(
        job.config.settings, job.dataset, job.params(), at=at, figures=figures, note=note
    )


def _download_mnist() -> None:
    try:
        download_mnist()
    except DataError as exc:
        st.session_state[keys.FULL_TRAINING_ERROR] = str(exc)
        return
    st.session_state[keys.FULL_TRAINING_ERROR] = None
    st.session_state[keys.W_DATASET] = "mnist"  # the sidebar's dataset, set before it is drawn


def _torch_check(run: Run) -> None:
    from explorer.torch_backend.phases import compare_with_engine

    s = run.stepper.state
    try:
        rows = compare_with_engine(run.spec, s.params, s.x, s.target)
    except NonFiniteError as exc:
        st.session_state[keys.FILE_CHECK] = str(exc)
        return
    st.session_state[keys.FILE_CHECK] = [
        {k: "" if v is None else v if isinstance(v, int) else f"{v:.1e}" for k, v in row.items()}
        for row in rows
    ]


def _read_params_file(run: Run) -> None:
    upload = st.session_state.get(keys.W_FT_PARAMS)
    st.session_state[keys.FILE_PARAMS] = None
    if upload is not None:
        guard(keys.PARAMS_FILE, lambda: _prepare_params(run, upload.getvalue()))
    else:
        guard(keys.PARAMS_FILE, lambda: lambda: None)  # a removed file takes its message with it


def _prepare_params(run: Run, data: bytes) -> Commit:
    # The sidebar's network in float64, and room for the run's JSON and the array headers
    params = load_params(data, max_bytes=8 * run.spec.n_params + PARAMS_FILE_ROOM)
    try:
        params.check_shapes(run.spec)
    except SpecError as exc:
        raise SpecError(f"{exc} The sidebar builds {run.spec.describe()}.") from None

    def commit() -> None:
        st.session_state[keys.FILE_PARAMS] = params

    return commit


def _open_file(run: Run) -> None:
    params = st.session_state.get(keys.FILE_PARAMS)
    if params is not None:
        note = "Opened the network from the parameters file."
        open_in_explorer(run.settings, run.dataset, params, note=note)


# -- drawing ---------------------------------------------------------------------------------
def _backend() -> str:
    if not tb.torch_available():
        st.session_state[keys.W_FT_BACKEND] = "numpy"
    backend = st.radio(
        "Backend",
        tuple(BACKEND_TITLES),
        format_func=BACKEND_TITLES.__getitem__,
        horizontal=True,
        key=keys.W_FT_BACKEND,
        disabled=not tb.torch_available(),
    )
    if not tb.torch_available():
        st.caption(f"PyTorch is not installed: `{tb.INSTALL_HINT}` adds it.")
    return str(backend)


def _device(backend: str) -> str:
    if backend == "numpy":
        st.selectbox("Device", ("cpu",), key="w_ft_device_numpy", disabled=True)
        return "auto"
    from explorer.torch_backend.trainer import available_devices

    devices = available_devices()
    auto = f"auto ({devices[0]})"
    choice = st.selectbox(
        "Device",
        ("auto", *devices),
        format_func=lambda d: auto if d == "auto" else d,
        key="w_ft_device",
    )
    if (devices[0] if choice == "auto" else choice) == "cpu":
        st.caption("On a CPU, NumPy is as fast for small networks; torch pays off on a GPU.")
    return str(choice)


def options(run: Run) -> RunConfig:
    """Network, backend, device, epochs and batch size: the run the Train button would start."""
    st.session_state.setdefault(keys.W_FT_BATCH, run.settings.batch_size)
    cnn = page_cnn()
    network = "mlp"
    if cnn is not None:
        names = {
            "mlp": f"The sidebar's MLP, {run.spec.describe()}",
            "cnn": f"The Convolution page's CNN, {cnn.spec.describe()} on {cnn.dataset.name}",
        }
        network = st.radio(
            "Network", list(names), format_func=names.__getitem__, key="w_ft_network"
        )
    left, mid, right, far = st.columns([1.3, 1, 1, 1])
    with left:
        backend = _backend()
    with mid:
        device = _device(backend)
    epochs = right.number_input("Epochs", 1, MAX_UI_EPOCHS, value=5, key="w_ft_epochs")
    batch = far.number_input(
        "Batch size of this run",
        1,
        limits("batch_size")["hi"],
        step=1,
        key=keys.W_FT_BATCH,
        help="Starts at the sidebar's; full training usually takes larger batches.",
    )
    if cnn is not None and network == "cnn":
        return conv_run_config(
            cnn, epochs=int(epochs), backend=backend, device=device, batch_size=int(batch)
        )
    settings = replace(run.settings, batch_size=int(batch))
    return RunConfig(settings, epochs=int(epochs), backend=backend, device=device)


def controls(run: Run, config: RunConfig) -> None:
    job: FullTraining | None = st.session_state.get(keys.FULL_TRAINING_JOB)
    running = job is not None and job.running
    step = run.stepper.state.step
    from_explorer = False
    if step and config.conv_blocks is None:
        from_explorer = st.checkbox(
            f"Start from the Explorer's network (trained {step:,} steps there)",
            value=True,
            key="w_ft_from_explorer",
        )
    row = st.container(horizontal=True)
    row.button(
        "Train",
        key="b_ft_train",
        icon=":material/rocket_launch:",
        type="primary",
        on_click=_start,
        args=(run, config, from_explorer),
        disabled=running,
    )
    row.button(
        "Stop", key="b_ft_stop", icon=":material/stop:", on_click=_stop, disabled=not running
    )
    if job is not None and job.config.conv_blocks is not None:
        row.button(
            "Open in Convolution",
            key="b_ft_open_conv",
            icon=":material/grid_on:",
            on_click=open_in_convolution,
            args=(job,),
            disabled=running,
            help="Step through the trained CNN on the Convolution page.",
        )
    else:
        row.button(
            "Open in Explorer",
            key="b_ft_open",
            icon=":material/biotech:",
            on_click=_open,
            args=(job,),
            disabled=job is None or running,
            help="Step through the trained network in the Explorer.",
        )
    row.download_button(
        "Export config",
        to_json(config),
        file_name="run.json",
        mime="application/json",
        key="b_ft_export",
        icon=":material/download:",
        on_click="ignore",
        help="The run as JSON for: python -m explorer.training.cli --config run.json",
    )
    if st.session_state.get(keys.FULL_TRAINING_ERROR):
        st.error(st.session_state[keys.FULL_TRAINING_ERROR])


def progress(job: FullTraining) -> None:
    epochs = job.config.epochs
    within = 1.0 if job.finished else job.position / job.n_batches
    shown_epoch = min(job.epoch + 1, epochs)
    st.progress(
        min(1.0, (job.epoch + (0 if job.finished else within)) / epochs),
        text=f"Epoch {shown_epoch} of {epochs}",
    )
    done = job.n_batches if job.finished else job.position
    st.progress(within, text=f"Batch {done:,} of {job.n_batches:,}")
    speed = job.samples_per_second
    rate = f" · {speed:,.0f} samples/s" if speed else ""
    st.caption(f"{job.network.describe()} · {job.trainer.describe()} · step {job.step:,}{rate}")
    if job.failure:
        st.error(job.failure)
    elif job.stopped:
        st.info(
            f"Stopped after {job.step:,} steps ({epochs_text(job.epochs_trained)} trained); "
            "the network keeps what it learned."
        )
    elif job.finished:
        st.success(f"Trained {epochs} epochs ({job.step:,} steps) in {job.seconds:.1f} s.")


def numbers(job: FullTraining) -> None:
    last = job.epochs[-1]
    cols = st.columns(4)
    cols[0].metric("Train loss", f"{last.train_loss:.4f}")
    cols[1].metric("Test loss", f"{last.test_loss:.4f}")
    if last.train_accuracy is not None and last.test_accuracy is not None:
        cols[2].metric("Train accuracy", f"{last.train_accuracy:.1%}")
        cols[3].metric("Test accuracy", f"{last.test_accuracy:.1%}")
    trained = epochs_text(job.epochs_trained if last.step == job.step else last.epoch)
    st.caption(f"At step {last.step:,}, {trained} trained (evaluated on every example).")


def curves(job: FullTraining) -> None:
    """Batch loss per chunk, then loss and accuracy after each epoch, all against the step."""
    chunks = job.chunk_losses[:: max(1, len(job.chunk_losses) // MAX_CURVE_POINTS)]
    steps = [r.step for r in job.epochs]
    # (title, steps, series, whether the values are shares drawn in % as the tiles write them)
    panels: list[tuple[str, list[int], dict[str, list[float | None]], bool]] = [
        (
            "Batch loss (mean per chunk)",
            [s for s, _ in chunks],
            {"batch": [v for _, v in chunks]},
            False,
        ),
        (
            "Loss after each epoch",
            steps,
            {
                "train": [r.train_loss for r in job.epochs],
                "test": [r.test_loss for r in job.epochs],
            },
            False,
        ),
    ]
    if job.epochs[-1].test_accuracy is not None:
        accuracy = {
            "train": [r.train_accuracy for r in job.epochs],
            "test": [r.test_accuracy for r in job.epochs],
        }
        panels.append(("Accuracy after each epoch", steps, accuracy, True))
    for i, (column, (title, x, series, percent)) in enumerate(
        zip(st.columns(3), panels, strict=False)
    ):
        column.markdown(f"**{title}**")
        if len(x) > 1:
            fig = curves_figure(x, series, percent=percent)
            column.plotly_chart(fig, key=f"ft_curve_{i}", config={"displayModeBar": False})


def live() -> None:
    """Progress, numbers and curves; reruns on a timer while the job trains."""
    job_fragment(
        keys.FULL_TRAINING_JOB,
        _show,
        "Choose a backend, epochs and a batch size, then press Train.",
    )


def _show(job: FullTraining) -> None:
    progress(job)
    numbers(job)
    curves(job)


def from_file(run: Run) -> None:
    """Open a parameters file written by ``python -m explorer.training.cli`` in the Explorer."""
    with st.expander("Open a network trained on the command line"):
        st.file_uploader(
            "params.npz",
            type=["npz"],
            key=keys.W_FT_PARAMS,
            on_change=_read_params_file,
            args=(run,),
        )
        show_refusal(keys.PARAMS_FILE)
        params = st.session_state.get(keys.FILE_PARAMS)
        st.button(
            "Open in Explorer",
            key="b_ft_open_file",
            icon=":material/biotech:",
            on_click=_open_file,
            args=(run,),
            disabled=params is None,
            help="Uses the sidebar's network and dataset; the file must fit that network.",
        )
        st.markdown(
            "Train without the browser, on a GPU, or on several processes, with the exported "
            "config:"
        )
        st.code(
            "python -m explorer.training.cli --config run.json --out runs/a\n"
            "torchrun --nproc_per_node=2 -m explorer.training.cli --config run.json --out runs/b",
            language="bash",
        )


def torch_check(run: Run) -> None:
    """The Explorer's current mini-batch recomputed by torch autograd, difference per layer."""
    with st.expander("Check the Explorer's numbers with torch autograd"):
        st.caption(
            "Runs the Explorer's current mini-batch through the NumPy engine and through "
            "torch autograd, both in float64, and shows the largest difference per layer."
        )
        st.button(
            "Recompute with torch",
            key="b_ft_check",
            icon=":material/calculate:",
            on_click=_torch_check,
            args=(run,),
            disabled=not tb.torch_available(),
        )
        result = st.session_state.get(keys.FILE_CHECK)
        if isinstance(result, str):
            st.error(result)
        elif result:
            st.dataframe(result, hide_index=True)


def train_page(run: Run) -> None:
    """The whole body of the Train page."""
    st.title("Full training")
    d = run.dataset
    st.caption(
        f"Trains the sidebar's network, {run.spec.describe()}, on {d.name} "
        f"({len(d.x_train):,} training and {len(d.x_test):,} test examples) with its "
        f"optimizer ({run.settings.optimizer}, rate {run.settings.learning_rate:g})."
    )
    if not mnist_downloaded():
        st.button(
            "Download full MNIST (70,000 digits, 11 MB)",
            key="b_ft_mnist",
            icon=":material/cloud_download:",
            on_click=_download_mnist,
            help="Fetched once into your cache, checked against its SHA-256, then offered in "
            "the sidebar's Dataset menu.",
        )
    config = options(run)
    controls(run, config)
    live()
    from_file(run)
    torch_check(run)
