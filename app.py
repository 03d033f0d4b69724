"""Backprop Explorer: the Streamlit entry point. Navigation over the pages, nothing else."""

import streamlit as st

st.set_page_config(page_title="Backprop Explorer", page_icon="🧠", layout="wide")
pages = [
    st.Page("pages/explorer.py", title="Explorer", icon="🔬", default=True),
]
st.navigation(pages).run()
