"""Full training of the Convolution page's CNN: the run it makes, and opening the trained
network back on that page.

``conv_run_config`` turns the page's network into a ``RunConfig`` with ``conv_blocks`` (its
dense hidden layers as the settings' hidden layers, its training settings as theirs), so the
Full training page, its exported JSON and ``python -m explorer.training.cli`` all train that CNN.
``open_in_convolution`` (an ``on_click`` callback) builds the page's network from the
builder's choices the run started from, with the trained parameters standing where training
stopped, through ``explorer.ui.guard``, and switches to the page.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from explorer.engine import Loaded, Params
from explorer.engine.optim import init_opt_state
from explorer.state.run_config import RunConfig
from explorer.state.settings import Settings
from explorer.training.full import FullTraining
from explorer.ui import keys
from explorer.ui.conv_files import forget_builder
from explorer.ui.conv_session import ConvRun, ConvSettings, build_conv
from explorer.ui.guard import Commit, guard
from explorer.ui.page import go_to

CONV_PAGE = "app_pages/convolution.py"


def page_cnn() -> ConvRun | None:
    """The Convolution page's network, if this session has built one."""
    run = st.session_state.get(keys.CONV_RUN)
    return run if isinstance(run, ConvRun) else None


def conv_run_config(
    run: ConvRun, *, epochs: int, backend: str, device: str, batch_size: int
) -> RunConfig:
    """The run training ``run``'s CNN, with its training settings but ``batch_size``."""
    config = run.stepper.config
    hidden = run.spec.dense[:-1]
    settings = replace(
        Settings(),
        dataset=run.settings.dataset,
        hidden_sizes=tuple(d.size for d in hidden),
        hidden_activations=tuple(d.activation for d in hidden),
        head="softmax + cross-entropy",
        seed=run.settings.seed,
        optimizer=config.optimizer,
        learning_rate=config.learning_rate,
        batch_size=batch_size,
        l1=config.l1,
        l2=config.l2,
        momentum=config.momentum,
    )
    return RunConfig(
        settings, epochs=epochs, backend=backend, device=device, conv_blocks=run.spec.blocks
    )


def start_from(run: ConvRun) -> Params:
    """The parameters a run starts from (the page's network as it stands), remembering the
    builder's choices for ``open_in_convolution``."""
    st.session_state[keys.CONV_STARTED_FROM] = run.settings
    return run.stepper.state.params


def open_in_convolution(job: FullTraining) -> None:
    """The trained CNN on the Convolution page, counting on from where training stopped."""
    settings = st.session_state.get(keys.CONV_STARTED_FROM)

    def prepare() -> Commit:
        assert isinstance(settings, ConvSettings), "a CNN run remembers where it started"
        run = build_conv(settings)
        params = job.params()
        position = min(job.position * job.config.settings.batch_size, len(run.dataset.x_train))
        epoch = job.epoch + (position >= len(run.dataset.x_train))
        run.stepper.restore(
            params,
            init_opt_state(params, run.stepper.config),
            epoch=epoch,
            step=job.step,
            position=position % len(run.dataset.x_train),
            trail=(Loaded(),),
        )
        run.record()

        def commit() -> None:
            st.session_state[keys.CONV_RUN] = run
            forget_builder()
            go_to(CONV_PAGE)

        return commit

    guard(keys.OPEN_IN_EXPLORER, prepare)
