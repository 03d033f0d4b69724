"""Backprop Explorer: the Streamlit entry point. Navigation over the pages, nothing else."""

# Imported here, whole, before any page runs: sessions starting together otherwise import it
# at once, and plotly found it half-initialised (bench/RESULTS.md, cold start).
import pandas  # noqa: F401
import streamlit as st

from explorer.ui.pages import PAGES

# The tab icon stays an emoji: a Material one is fetched from fonts.gstatic.com.
st.set_page_config(page_title="Backprop Explorer", page_icon="🧠", layout="wide")
pages = [
    st.Page(page.path, title=page.title, icon=page.icon, default=n == 0)
    for n, page in enumerate(PAGES)
]
st.navigation(pages).run()
