"""Datasets for the UI: built-in ones cached once per process, uploads parsed per user.

Built-in datasets go in ``st.cache_resource``: a Dataset is immutable (frozen, read-only
arrays), so every session can share one copy; ``st.cache_data`` would hand each rerun its own
unpickled copy, 31 MB for the MNIST sample.
"""

from __future__ import annotations

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
from explorer.settings import Settings


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=32)
def builtin_dataset(key: str, **params: Any) -> Dataset:
    return load_dataset(key, **params)


def dataset_for(settings: Settings) -> Dataset:
    """The built-in dataset ``settings`` name, with its parameters for the 2-D sets: the one
    call every page, lesson and link uses, so they all share one cached object."""
    if settings.dataset in TOY_NAMES:
        return builtin_dataset(settings.dataset, **settings.data_params())
    return builtin_dataset(settings.dataset)


def parse_upload(files: Sequence[tuple[str, bytes]]) -> Dataset:
    """A dataset from uploaded files: one .npz, one or two .csv (train, test), or the four
    IDX files of a set. Raises DataError with a message for the user."""
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
