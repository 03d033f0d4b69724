"""The one boundary for everything a user hands in: an upload, a session or parameters file, a
shared link, a canvas drawing, a weight edit.

``guard`` runs a ``prepare`` step that reads and checks the whole input and builds whatever
state it leads to, off to the side; only when that has succeeded does it call the ``commit``
that ``prepare`` returned, which swaps the new state in and cannot fail. A refusal (any of
``REFUSALS``) leaves the old state as it was and one message for the place the input came
from; anything else is logged with its traceback on the server and told to the user in one
short sentence, never as a traceback. User text reaches the screen only through ``plain``:
Streamlit renders an alert's text as Markdown, where a link value such as
``[Sign in](https://evil.example)`` would become a live link.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import streamlit as st

from explorer.data import DataError
from explorer.engine import NonFiniteError, ReplayError, SpecError
from explorer.lessons import LessonError
from explorer.state.run_config import ConfigError
from explorer.state.session_file import SessionFileError
from explorer.torch_backend import DeviceError, TorchMissingError
from explorer.ui import keys

Commit = Callable[[], None]
REFUSALS = (
    DataError,
    SessionFileError,
    ConfigError,
    SpecError,
    ReplayError,
    NonFiniteError,
    LessonError,
    DeviceError,
    TorchMissingError,
)
UNEXPECTED = "That could not be used (an unexpected error, logged on the server)."
_LOG = logging.getLogger(__name__)
# Every ASCII punctuation character may be backslash-escaped in Markdown and then stands for
# itself: links, images, emphasis, HTML, math, emoji and colour directives all lose their power.
_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")
# Escapes do not stop GFM's bare autolinks (https://..., www...., a@b.c, measured in chromium):
# an invisible word joiner (U+2060) inside each of their openings does.
JOINER = "\u2060"
_AUTOLINK = re.compile(r"(://|www\.|@)", re.IGNORECASE)


def plain(text: str) -> str:
    """``text`` escaped so that Streamlit's Markdown shows it as written, as text: no link,
    image or formatting (``JOINER``s, invisible, break the openings of bare links)."""
    unlinked = _AUTOLINK.sub(lambda m: m[0][0] + JOINER + m[0][1:], text)
    return _MARKUP.sub(r"\\\1", unlinked)


def guard(where: str, prepare: Callable[[], Commit]) -> bool:
    """Run ``prepare``, then the commit it returns; True when the input was taken.
    On a refusal the message is kept for ``where`` (see ``message``) and nothing changes."""
    try:
        commit = prepare()
    except REFUSALS as exc:
        _messages()[where] = str(exc)
        return False
    except MemoryError:
        _messages()[where] = "That is too large to be used here."
        return False
    except Exception:
        _LOG.exception("Unexpected error while taking %s", where)
        _messages()[where] = UNEXPECTED
        return False
    commit()
    _messages().pop(where, None)
    return True


def message(where: str) -> str | None:
    """The refusal of the last input taken at ``where``, if it was refused."""
    return _messages().get(where)


def show_refusal(where: str) -> None:
    """The refusal for ``where`` (if any) as one error box, shown as text."""
    text = message(where)
    if text:
        st.error(plain(text))


def _messages() -> dict[str, str]:
    return st.session_state.setdefault(keys.GUARD_MESSAGES, {})
