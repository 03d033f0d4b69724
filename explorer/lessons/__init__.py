"""Guided lessons, read from the YAML files beside this module (text lives in data, not code).

A lesson is a title, a goal, base settings, and steps; each step has Markdown text, what to
click or look at, optional settings of its own, how far to train before showing it (``run``:
phases, ``run_steps``: whole steps: the point where the step's text begins, before the clicks
it asks for), which sample of the batch to show (``sample``, optional) and which page the step
happens on (``page``, optional: a page's title, which the Lessons page offers to open).
``Lesson.start(i)``
turns a step into the settings and trail the Lessons page and the Explorer open. Left out:
quizzes and progress tracking.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from explorer.engine import Event, Phases
from explorer.settings import Settings
from explorer.ui.pages import PAGES

LESSON_DIR = Path(__file__).parent
_SETTING_NAMES = {f.name for f in fields(Settings)}
_PAGE_TITLES = {page.title for page in PAGES}


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


def _lesson(path: Path) -> Lesson:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = path.name
    try:
        base = _settings(Settings(), data.get("settings"), where)
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
            )
            for i, step in enumerate(data["steps"])
        )
        for i, step in enumerate(steps):
            if step.sample is not None and not 0 <= step.sample < step.settings.batch_size:
                raise LessonError(f"{where} step {i + 1}: sample {step.sample} is not in a batch")
            if step.page is not None and step.page not in _PAGE_TITLES:
                raise LessonError(f"{where} step {i + 1}: no page is called {step.page!r}")
        return Lesson(path.stem, str(data["title"]), str(data["goal"]).strip(), steps)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LessonError(f"{where}: missing or malformed field {exc}") from None


@cache
def load_lessons(folder: Path = LESSON_DIR) -> tuple[Lesson, ...]:
    """Every lesson in ``folder``, in file-name order."""
    return tuple(_lesson(p) for p in sorted(folder.glob("*.yaml")))
