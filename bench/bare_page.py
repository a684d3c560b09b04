"""The floor: a page holding one small plotly chart, measured in the same run as the real pages."""
import plotly.graph_objects as go
import streamlit as st

st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 3, 2])))
