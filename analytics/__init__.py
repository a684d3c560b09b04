"""Reach & Need analytics: everything the pages compute, with no Streamlit (except ui.py)."""
