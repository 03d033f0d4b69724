"""Backprop Explorer: the Streamlit entry point. Navigation over the pages, nothing else."""

# Imported here, whole, before any page runs: sessions starting together otherwise import it
# at once, and plotly found it half-initialised (bench/RESULTS.md, cold start).
import pandas  # noqa: F401
import streamlit as st

# Page icons from the Material font that ships with Streamlit: they show without an emoji font.
# The tab icon stays an emoji: a Material one is fetched from fonts.gstatic.com.
st.set_page_config(page_title="Backprop Explorer", page_icon="🧠", layout="wide")
pages = [
    st.Page("app_pages/explorer.py", title="Explorer", icon=":material/hub:", default=True),
    st.Page("app_pages/training.py", title="Training views", icon=":material/monitoring:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("app_pages/train.py", title="Full training", icon=":material/rocket_launch:"),
    st.Page("app_pages/lessons.py", title="Lessons", icon=":material/school:"),
]
st.navigation(pages).run()
