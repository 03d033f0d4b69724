"""Reading a file for the loaders: gzip members one after another (as gzip -d and Python's
gzip module read them), zero padding, trailing garbage, truncation, and the bounds on what a
small file can make the app decompress."""

from __future__ import annotations

import gzip
import tracemalloc

import pytest

from explorer.data import MAX_BYTES, MAX_VALUES, DataError
from explorer.data import source as source_module
from explorer.data.source import gunzip, read_source

MIB = 1024 * 1024
FIRST, SECOND = b"first member, ", b"then the second"
TWO_MEMBERS = gzip.compress(FIRST, mtime=0) + gzip.compress(SECOND, mtime=0)


def test_the_caps_are_exported() -> None:
    assert MAX_VALUES == 60_000_000
    # Full EMNIST-digits-sized training images (60,000 of 28×28) fit under both caps.
    assert 60_000 * 784 < MAX_VALUES < MAX_BYTES


def test_several_gzip_members_are_read_one_after_another() -> None:
    assert read_source(TWO_MEMBERS, "The file") == gzip.decompress(TWO_MEMBERS) == FIRST + SECOND


def test_zero_padding_after_and_between_members_is_skipped_as_gzip_does() -> None:
    first, second = gzip.compress(FIRST), gzip.compress(SECOND)
    for data in (first + second + bytes(100), first + bytes(7) + second):
        assert read_source(data, "The file") == gzip.decompress(data) == FIRST + SECOND


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (TWO_MEMBERS + b"junk", "extra bytes after its gzip data"),
        (TWO_MEMBERS + bytes(3) + b"junk", "extra bytes after its gzip data"),
        (TWO_MEMBERS[:-3], "truncated gzip file"),
        (gzip.compress(FIRST) + b"\x1f\x8b", "truncated gzip file"),
        (gzip.compress(FIRST) + b"\x1f\x8b" + bytes(30), "damaged gzip file"),
        (gzip.compress(b"") * 3, "empty once decompressed"),
    ],
    ids=["junk", "zeros-then-junk", "truncated-last", "magic-only", "damaged-second", "empty"],
)
def test_what_follows_a_member_must_be_a_whole_member(data: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_source(data, "The file")


def test_the_members_together_stay_under_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_module, "MAX_BYTES", MIB)
    half = gzip.compress(bytes(MIB // 2 + 1))
    assert len(gunzip(half, "The file")) == MIB // 2 + 1
    with pytest.raises(DataError, match="expands to more than 1 MB"):
        gunzip(half + half, "The file")


def test_the_number_of_members_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_module, "MAX_GZIP_MEMBERS", 3)
    member = gzip.compress(b"x")
    assert gunzip(member * 3, "The file") == b"xxx"
    with pytest.raises(DataError, match="more than 3 gzip members"):
        gunzip(member * 4, "The file")


def test_many_members_are_read_in_linear_time() -> None:
    """zlib copies what follows a member's end; fed the whole file at once, 10,000 members
    of a 10 MB file would copy 100 GB."""
    data = gzip.compress(bytes(10 * MIB), 1) + gzip.compress(b"", mtime=0) * 9_999
    assert len(gunzip(data, "The file")) == 10 * MIB


def test_size_from_head_refuses_from_the_first_bytes() -> None:
    bomb = gzip.compress(b"HEAD" + bytes(100 * MIB))
    seen: list[bytes] = []

    def refuse(head: bytes) -> int:
        seen.append(head)
        raise DataError("refused from its head")

    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="refused from its head"):
            read_source(bomb, "The file", size_from_head=refuse)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == [b"HEAD" + bytes(source_module.HEAD_BYTES - 4)]
    assert peak < MIB


def test_size_from_head_stops_decompression_at_the_announced_size() -> None:
    content = b"12345678" + bytes(50 * MIB)
    data = gzip.compress(content)
    assert read_source(data, "The file", size_from_head=lambda head: len(content)) == content
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="more than the 8 bytes its header announces"):
            read_source(data, "The file", size_from_head=lambda head: 8)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * MIB


def test_a_head_shorter_than_head_bytes_is_the_whole_content() -> None:
    seen: list[bytes] = []

    def announce(head: bytes) -> int:
        seen.append(head)
        return len(head)

    assert read_source(TWO_MEMBERS, "The file", size_from_head=announce) == FIRST + SECOND
    assert seen == [FIRST + SECOND]
