"""The Why GPUs page's body: a live race of the same training steps on the NumPy engine, torch
on the CPU and torch on CUDA where there is one, as the hidden width grows.

The user picks the widths and the batch size; Race starts an ``explorer.analysis.race.Race`` kept in
this session's state, on the MNIST sample. As on the Full training page, a fragment that reruns
on a timer (``explorer.ui.job_fragment``) advances the race by one chunk a tick (a cell is
never cut: a wide one on a CPU can take a few seconds) and redraws the progress bar, the
figure, the table and the explanation, so Stop (a callback, run between two ticks) lands
between two cells, keeping what was measured. Without a GPU the page says so and races the
CPU contenders.

Nothing here touches the user's network. Left out: the timing and the sentences
(``explorer.analysis.race``) and drawing (``explorer.figures.race``).
"""

from __future__ import annotations

import streamlit as st

from explorer.analysis.race import (
    BATCH_SIZES,
    CALLS,
    CONTENDERS,
    DEFAULT_BATCH,
    MAX_STEPS,
    TORCH_CUDA,
    WIDTHS,
    Race,
    contenders,
    explain,
    flops_per_sample,
    race_spec,
)
from explorer.data import Dataset
from explorer.figures.race import RaceLine, race_figure
from explorer.state.settings import Settings
from explorer.torch_backend import INSTALL_HINT, torch_available
from explorer.ui import keys
from explorer.ui.datasets import dataset_for
from explorer.ui.job_fragment import job_fragment

DATASET = "mnist-sample"
CHART = {"displayModeBar": False}
TITLES = {c.key: c.title for c in CONTENDERS}


def _dataset() -> Dataset:
    return dataset_for(Settings(dataset=DATASET))


# -- actions (callbacks) ---------------------------------------------------------------------
def _start(widths: tuple[int, ...], batch_size: int) -> None:
    st.session_state[keys.RACE_JOB] = Race(_dataset(), widths, batch_size, contenders())


def _stop() -> None:
    job: Race | None = st.session_state.get(keys.RACE_JOB)
    if job is not None:
        job.stop()


# -- drawing ---------------------------------------------------------------------------------
def devices_note() -> None:
    """Which contenders race here, and plainly why one is missing."""
    if not torch_available():
        st.warning(
            "PyTorch is not installed, so only the NumPy engine races: "
            f"`{INSTALL_HINT}` adds torch on the CPU (and on a GPU with its CUDA build)."
        )
    elif TORCH_CUDA not in contenders():
        st.info(
            "No GPU here: torch sees no CUDA device on this machine, so only the CPU "
            "contenders race (the NumPy engine and torch on the CPU). On a machine with a "
            "GPU the same race adds torch on CUDA.",
            icon=":material/memory:",
        )
    else:
        st.success("A GPU is here: torch on CUDA races too.", icon=":material/memory:")


def options() -> tuple[tuple[int, ...], int]:
    """The widths and batch size the Race button would use."""
    left, right = st.columns([2, 1])
    widths = left.multiselect(
        "Hidden widths W (784-W-W-10)",
        WIDTHS,
        default=list(WIDTHS),
        format_func=lambda w: f"{w:,}",
        key="w_gpu_widths",
    )
    batch = right.select_slider("Batch size", BATCH_SIZES, value=DEFAULT_BATCH, key="w_gpu_batch")
    return tuple(sorted(int(w) for w in widths)), int(batch)


def controls(widths: tuple[int, ...], batch_size: int) -> None:
    job: Race | None = st.session_state.get(keys.RACE_JOB)
    running = job is not None and job.running
    row = st.container(horizontal=True)
    row.button(
        "Race",
        key="b_gpu_race",
        icon=":material/sprint:",
        type="primary",
        on_click=_start,
        args=(widths, batch_size),
        disabled=running or not widths,
    )
    row.button(
        "Stop", key="b_gpu_stop", icon=":material/stop:", on_click=_stop, disabled=not running
    )
    if not widths:
        st.caption("Pick at least one width to race.")


def progress(job: Race) -> None:
    st.progress(job.fraction, text=job.now())
    if job.failure:
        st.error(job.failure)
    elif job.stopped:
        st.info(f"Stopped after {len(job.cells)} of {len(job.tasks) - len(job.entrants)} cells.")


def chart(job: Race) -> None:
    lines = []
    for contender in job.entrants:
        cells = [c for c in job.cells if c.contender == contender.key]
        if not cells:
            continue
        lines.append(
            RaceLine(
                contender.title,
                [c.width for c in cells],
                [c.samples_per_s for c in cells],
                [c.flops_per_s for c in cells],
                job.rates.get(contender.key),
            )
        )
    if lines:
        st.plotly_chart(race_figure(lines), key="gpu_race_chart", config=CHART)


def table(job: Race) -> None:
    rows = []
    for c in job.cells:
        rate = job.rates.get(c.contender)
        rows.append(
            {
                "contender": TITLES[c.contender],
                "width": c.width,
                "steps timed": c.steps,
                "ms per step": round(c.step_seconds * 1e3, 3),
                "samples/s": round(c.samples_per_s),
                "GFLOP/s": round(c.flops_per_s / 1e9, 2),
                "% of matmul rate": round(100 * c.flops_per_s / rate, 1) if rate else None,
            }
        )
    if rows:
        whole = st.column_config.NumberColumn(format="localized")  # 220,493, not 220493
        columns = {"width": whole, "samples/s": whole}
        st.dataframe(rows, hide_index=True, column_config=columns, key="gpu_race_table")
    rates = " · ".join(f"{TITLES[k]} {v / 1e9:,.1f} GFLOP/s" for k, v in job.rates.items())
    if rates:
        st.caption(f"Measured float32 matmul rates: {rates}.")


def explanation(job: Race) -> None:
    lines = explain(job)
    if lines:
        st.subheader("What the numbers say")
        for line in lines:
            st.markdown(line)
    elif job.finished and len(job.widths) == 1:
        st.caption("Race two widths or more for the explanation: it compares the ends.")


def live() -> None:
    """Progress, chart, table and explanation; reruns on a timer while the race runs."""
    job_fragment(keys.RACE_JOB, _show, "Choose the widths and a batch size, then press Race.")


def _show(job: Race) -> None:
    progress(job)
    chart(job)
    table(job)
    explanation(job)


def gpus_page() -> None:
    """The whole body of the Why GPUs page."""
    st.title("Why GPUs")
    small, wide = flops_per_sample(race_spec(16)), flops_per_sample(race_spec(4096))
    st.markdown(
        "*“Deep learning uses parallel processing (GPUs) for faster training.”* Race it: "
        "the same network, 784-W-W-10, the same initial weights and the same mini-batches of "
        "the MNIST sample, trained by the NumPy engine, by torch on the CPU and by torch on a "
        f"GPU. A sample costs {small:,} FLOPs of matmuls at W = 16 and {wide:,} at "
        "W = 4,096 (6W² + 3,196W, forward and backward)."
    )
    st.caption(
        f"Each cell: one untimed call, then the median of {CALLS} timed calls of up to "
        f"{MAX_STEPS} SGD steps (fewer for the widest, so the race stays short). Each "
        "contender is set against the float32 matmul rate of its own library on its own device."
    )
    devices_note()
    widths, batch = options()
    controls(widths, batch)
    live()
