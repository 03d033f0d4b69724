"""The app's pages, in navigation order: app.py registers them, presenter mode's bar links
them. One list, so a new page appears in both."""

from __future__ import annotations

from typing import NamedTuple


class PageEntry(NamedTuple):
    path: str
    title: str
    icon: str  # from the Material font that ships with Streamlit: it shows without an emoji font


PAGES = (
    PageEntry("app_pages/explorer.py", "Explorer", ":material/hub:"),
    PageEntry("app_pages/convolution.py", "Convolution", ":material/grid_on:"),
    PageEntry("app_pages/training.py", "Training views", ":material/monitoring:"),
    PageEntry("app_pages/generalise.py", "Generalisation", ":material/verified:"),
    PageEntry("app_pages/compare.py", "Compare", ":material/compare:"),
    PageEntry("app_pages/train.py", "Full training", ":material/rocket_launch:"),
    PageEntry("app_pages/gpus.py", "Why GPUs", ":material/memory:"),
    PageEntry("app_pages/features.py", "Features", ":material/category:"),
    PageEntry("app_pages/lessons.py", "Lessons", ":material/school:"),
)
