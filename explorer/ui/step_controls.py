"""The rows of step buttons, as tables: the Explorer's and the Convolution page's row (Back,
Next phase, Complete step, N, Run N, Epoch, Play, Reset) and the Training views' row are lists
of controls drawn by ``control_row``, one column each, in the order of a step.

Buttons act through ``on_click`` callbacks, which run before the script, so the page drawn
after a click already shows the new state. Play is a switch, not a button: its value rides
along with every rerun, so a click made while a play tick runs cannot be lost the way a
one-shot button press can. In presenter mode the controls marked ``presenter=False`` (the N
box, Run N, Epoch) are left out and the rest share the row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from explorer.ui.presenter import presenting

BACK_HELP = "Undo the last action (up to 200 states)."
STEP_HELP = "Finish this mini-batch through its weight update."


@dataclass(frozen=True)
class Button:
    label: str
    key: str
    icon: str
    on_click: Callable[[], None]
    help: str | None = None
    primary: bool = False
    disabled: bool = False
    width: float = 1.0
    presenter: bool = True  # shown in presenter mode

    def draw(self, column: Any) -> None:
        column.button(
            self.label,
            key=self.key,
            icon=self.icon,
            on_click=self.on_click,
            help=self.help,
            type="primary" if self.primary else "secondary",
            disabled=self.disabled,
        )


@dataclass(frozen=True)
class Count:
    """A number box without a label beside the button that uses it (Run N's N)."""

    label: str
    key: str
    value: int
    most: int = 1000
    width: float = 0.8
    presenter: bool = True

    def draw(self, column: Any) -> None:
        column.number_input(
            self.label, 1, self.most, value=self.value, key=self.key, label_visibility="collapsed"
        )


@dataclass(frozen=True)
class Switch:
    label: str
    key: str
    on_change: Callable[[], None]
    help: str
    width: float = 1.0
    presenter: bool = True

    def draw(self, column: Any) -> None:
        column.toggle(self.label, key=self.key, on_change=self.on_change, help=self.help)


Control = Button | Count | Switch


def control_row(row: Sequence[Control], *, space: float = 0.0) -> None:
    """``row`` in columns as wide as its controls ask, less those presenter mode leaves out,
    then ``space`` left empty."""
    shown = [c for c in row if c.presenter or not presenting()]
    widths = [c.width for c in shown] + ([space] if space else [])
    for control, column in zip(shown, st.columns(widths), strict=False):
        control.draw(column)


@dataclass(frozen=True)
class StepActions:
    """What a step row's controls do, each a callback without arguments."""

    back: Callable[[], None]
    next_phase: Callable[[], None]
    finish_step: Callable[[], None]
    run_n: Callable[[], None]
    epoch: Callable[[], None]
    play: Callable[[], None]
    reset: Callable[[], None]


def step_row(
    actions: StepActions,
    *,
    prefix: str,
    n_key: str,
    play_key: str,
    can_step_back: bool,
    next_help: str,
    epoch_help: str,
    play_rate: float,
) -> None:
    """The stepping row; its buttons are keyed ``{prefix}_back``, ``{prefix}_phase``, ..."""
    control_row(
        [
            Button(
                "Back",
                f"{prefix}_back",
                ":material/undo:",
                actions.back,
                help=BACK_HELP,
                disabled=not can_step_back,
                width=0.9,
            ),
            Button(
                "Next phase",
                f"{prefix}_phase",
                ":material/play_arrow:",
                actions.next_phase,
                help=next_help,
                primary=True,
                width=1.2,
            ),
            Button(
                "Complete step",
                f"{prefix}_step",
                ":material/skip_next:",
                actions.finish_step,
                help=STEP_HELP,
                width=1.4,
            ),
            Count("N", n_key, 10, presenter=False),
            Button(
                "Run N",
                f"{prefix}_run",
                ":material/fast_forward:",
                actions.run_n,
                help="Run N whole steps (the number beside it).",
                width=1.15,
                presenter=False,
            ),
            Button(
                "Epoch",
                f"{prefix}_epoch",
                ":material/replay:",
                actions.epoch,
                help=epoch_help,
                width=1.1,
                presenter=False,
            ),
            Switch("Play", play_key, actions.play, f"{play_rate:g} steps a second."),
            Button("Reset", f"{prefix}_reset", ":material/restart_alt:", actions.reset),
        ]
    )
