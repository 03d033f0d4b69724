"""Streamlit helpers shared by the pages: the sidebar, per-user session state, controls."""
