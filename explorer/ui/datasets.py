"""Datasets for the UI, cached once per process and shared by every session.

A Dataset is immutable (frozen, read-only arrays), so sessions can share one copy, in
``st.cache_resource``; ``st.cache_data`` would hand each rerun its own unpickled copy, 31 MB
for the MNIST sample. The named sets have a cache of their own, which the many small 2-D
sets (one per parameter choice) cannot evict; uploads are cached by their content's hash, so
thirty students uploading the same file hold one decoded copy. Sessions never rely on these
caches to keep their data: a run holds its own dataset, and compares settings by value, so
no other session's choices can rebuild or reset it (see ``explorer.ui.session.sync``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from explorer.data import (
    TOY_NAMES,
    DataError,
    Dataset,
    load_csv,
    load_dataset,
    load_idx_files,
    load_npz,
)
from explorer.state.settings import Settings


@st.cache_resource(show_spinner="Loading the dataset…")
def _named_dataset(key: str) -> Dataset:
    return load_dataset(key)


@st.cache_resource(show_spinner=False, max_entries=32)
def _toy_dataset(key: str, **params: Any) -> Dataset:
    return load_dataset(key, **params)


def dataset_for(settings: Settings) -> Dataset:
    """The built-in dataset ``settings`` name, with its parameters for the 2-D sets: the one
    call every page, lesson and link uses, so they all share one cached object."""
    if settings.dataset in TOY_NAMES:
        return _toy_dataset(settings.dataset, **settings.data_params())
    return _named_dataset(settings.dataset)


def parse_upload(files: Sequence[tuple[str, bytes]]) -> Dataset:
    """A dataset from uploaded files: one .npz, one or two .csv (train, test), or the four
    IDX files of a set; one decoded copy per content in the process. Raises DataError with a
    message for the user."""
    digest = hashlib.sha256()
    for name, data in files:
        for part in (name.encode(), len(data).to_bytes(8, "little"), data):
            digest.update(part)
    return _parsed_upload(digest.hexdigest(), tuple(files))


@st.cache_resource(show_spinner="Reading the upload…", max_entries=8)
def _parsed_upload(digest: str, _files: tuple[tuple[str, bytes], ...]) -> Dataset:
    """Cached by ``digest`` alone (Streamlit does not hash an argument named with ``_``).
    A refused upload raises, and Streamlit caches nothing for it."""
    return _parse(_files)


def _parse(files: Sequence[tuple[str, bytes]]) -> Dataset:
    names = [name for name, _ in files]
    suffixes = {Path(name.removesuffix(".gz")).suffix.lower() for name in names}
    if not files:
        raise DataError("Choose one or more files to upload.")
    if suffixes == {".npz"} and len(files) == 1:
        return load_npz(files[0][1], name=names[0])
    if suffixes == {".csv"} and len(files) <= 2:
        ordered = sorted(files, key=lambda f: "test" in f[0].lower())
        test = ordered[1][1] if len(ordered) == 2 else None
        return load_csv(ordered[0][1], test, name=ordered[0][0])
    if len(files) == 4:
        return load_idx_files(dict(files), name="Uploaded IDX set")
    raise DataError(
        "Upload one .npz file, one or two .csv files (training, then test), or the four IDX "
        "files of a set (train/t10k images and labels)."
    )
