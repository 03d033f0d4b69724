"""guard.plain: user text reaches Markdown as text, reading exactly as written."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from explorer.ui.guard import JOINER, plain
from tests.conftest import shown


@given(st.text())
def test_plain_text_reads_as_written(text: str) -> None:
    assert shown(plain(text)) == text.replace(JOINER, "")


def test_markup_is_escaped_and_bare_links_are_broken() -> None:
    got = plain("[a](http://127.0.0.1) ![i](y) *b* <b> www.localhost me@x.example $x$")
    assert "[a](" not in got and "![" not in got and "<b>" not in got and "*b*" not in got
    for opening in ("://", "www.", "@x"):
        assert opening not in got.replace("\\", "")
