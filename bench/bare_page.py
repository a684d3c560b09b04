"""The floor: a page holding one small plotly chart and one filter, measured in the same run as the real pages."""
import plotly.graph_objects as go
import streamlit as st

letter = st.selectbox("Letter", ["a", "b", "c"], key="filter_letter")
st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 3, 2]), layout_title_text=f"Chosen: {letter}"))
