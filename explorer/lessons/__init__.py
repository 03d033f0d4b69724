"""Guided lessons, read from the YAML files beside this module (text lives in data, not code).

A lesson is a title, a goal, base settings, and steps; each step has Markdown text, what to
click or look at, optional settings of its own, how far to train before showing it (``run``:
phases, ``run_steps``: whole steps: the point where the step's text begins, before the clicks
it asks for), which sample of the batch to show (``sample``, optional) and which page the step
happens on (``page``, optional: a page's title, which the Lessons page offers to open).
``Lesson.start(i)``
turns a step into the settings and trail the Lessons page and the Explorer open.

A step on the Convolution page may name its CNN (``conv``: the Convolution page's builder
choices, ``ConvSettings``' fields, conv blocks and hidden dense layers as lists of mappings),
as ``settings`` names the MLP: a lesson-level ``conv`` is every step's, a step's own overrides
its fields. It is checked as a CNN link's fields are (written as one and read back: every
range, choice and rate the builder offers); a kernel too large for the images is found when
the Lessons page builds it. Left out: quizzes and progress tracking.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from explorer.data.registry import BUILTIN_TITLES
from explorer.engine import Event, LayerSpec, Phases, SpecError
from explorer.engine.conv import ConvBlockSpec
from explorer.state.settings import Settings
from explorer.ui.pages import PAGES

if TYPE_CHECKING:
    from explorer.ui.conv_session import ConvSettings

LESSON_DIR = Path(__file__).parent
_SETTING_NAMES = {f.name for f in fields(Settings)}
_PAGE_TITLES = {page.title for page in PAGES}
CONV_PAGE_TITLE = "Convolution"  # the page a step's CNN opens on
_CONV_PARTS: dict[str, type[ConvBlockSpec] | type[LayerSpec]] = {
    "blocks": ConvBlockSpec,
    "hidden": LayerSpec,
}


class LessonError(ValueError):
    """A lesson file does not follow the format; the message names the file and the field."""


@dataclass(frozen=True)
class LessonStep:
    title: str
    text: str
    do: str
    settings: Settings
    run_phases: int
    run_steps: int
    sample: int | None = None  # the batch row to show (0-based), or None: leave the choice
    page: str | None = None  # the title of the page the step happens on, or None
    conv: ConvSettings | None = None  # the CNN the step opens on the Convolution page


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    goal: str
    steps: tuple[LessonStep, ...]

    def start(self, index: int) -> tuple[Settings, tuple[Event, ...]]:
        """Settings and trail for opening step ``index`` in the Explorer."""
        step = self.steps[index]
        s = step.settings
        n_phases = 2 * (len(s.hidden_sizes) + 1) + 2
        phases = step.run_phases + step.run_steps * n_phases
        return s, ((Phases(phases, s.train_config()),) if phases else ())


def _settings(base: Settings, raw: Any, where: str) -> Settings:
    if raw is None:
        return base
    if not isinstance(raw, dict) or not set(raw) <= _SETTING_NAMES:
        unknown = set(raw) - _SETTING_NAMES if isinstance(raw, dict) else raw
        raise LessonError(f"{where}: unknown settings {unknown}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    try:
        return replace(base, **values)
    except (TypeError, ValueError) as exc:
        raise LessonError(f"{where}: {exc}") from None


def _conv_part(kind: type[ConvBlockSpec] | type[LayerSpec], raw: Any, where: str) -> Any:
    names = {f.name for f in fields(kind)}
    if not isinstance(raw, dict) or not set(raw) <= names:
        raise LessonError(f"{where}: expected a mapping of {', '.join(sorted(names))}, not {raw!r}")
    try:
        return kind(**raw)
    except (SpecError, TypeError) as exc:
        raise LessonError(f"{where}: {exc}") from None


def _conv(base: ConvSettings | None, raw: Any, where: str) -> ConvSettings | None:
    """``base`` with the CNN fields of ``raw`` (None: ``base`` as it is)."""
    if raw is None:
        return base
    # imported here: explorer.ui.guard, which they import, refuses a LessonError from here
    from explorer.ui.conv_link import conv_from_query, conv_to_query, linked_fields
    from explorer.ui.conv_session import ConvSettings

    known = set(linked_fields())
    if not isinstance(raw, dict) or not set(raw) <= known:
        unknown = set(raw) - known if isinstance(raw, dict) else raw
        raise LessonError(f"{where}: unknown CNN settings {unknown}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name in _CONV_PARTS:
            if not isinstance(value, list):
                raise LessonError(f"{where}: conv {name} must be a list, not {value!r}")
            kind = _CONV_PARTS[name]
            values[name] = tuple(
                _conv_part(kind, part, f"{where} conv {name} {j + 1}")
                for j, part in enumerate(value)
            )
        else:
            values[name] = value
    # checked as a link's fields are: written as one and read back, every warning a refusal
    link = conv_from_query(conv_to_query(replace(base or ConvSettings(), **values)), BUILTIN_TITLES)
    if link.warnings:
        raise LessonError(f"{where}: the CNN: {' '.join(link.warnings)}")
    return link.settings


def _lesson(path: Path) -> Lesson:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = path.name
    try:
        base = _settings(Settings(), data.get("settings"), where)
        conv = _conv(None, data.get("conv"), where)
        steps = tuple(
            LessonStep(
                title=str(step["title"]),
                text=str(step["text"]),
                do=str(step.get("do", "")),
                settings=_settings(base, step.get("settings"), f"{where} step {i + 1}"),
                run_phases=int(step.get("run", 0)),
                run_steps=int(step.get("run_steps", 0)),
                sample=None if step.get("sample") is None else int(step["sample"]),
                page=None if step.get("page") is None else str(step["page"]),
                conv=_conv(conv, step.get("conv"), f"{where} step {i + 1}"),
            )
            for i, step in enumerate(data["steps"])
        )
        for i, step in enumerate(steps):
            if step.sample is not None and not 0 <= step.sample < step.settings.batch_size:
                raise LessonError(f"{where} step {i + 1}: sample {step.sample} is not in a batch")
            if step.page is not None and step.page not in _PAGE_TITLES:
                raise LessonError(f"{where} step {i + 1}: no page is called {step.page!r}")
            if step.conv is not None and step.page != CONV_PAGE_TITLE:
                raise LessonError(
                    f"{where} step {i + 1}: a CNN opens on the {CONV_PAGE_TITLE} page, "
                    f"not on {step.page!r}"
                )
        return Lesson(path.stem, str(data["title"]), str(data["goal"]).strip(), steps)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LessonError(f"{where}: missing or malformed field {exc}") from None


@cache
def load_lessons(folder: Path = LESSON_DIR) -> tuple[Lesson, ...]:
    """Every lesson in ``folder``, in file-name order."""
    return tuple(_lesson(p) for p in sorted(folder.glob("*.yaml")))
