"""Home: the partnership at a glance — who lives here, who engagement has heard."""
import streamlit as st

from analytics import home, ui

info = ui.page_setup("Reach & Need")
st.subheader(info["name"])
facts = ui.compute(home.overview)

cols = st.columns(4)
cols[0].metric("Residents", f"{facts['residents']:,.0f}", help=f"Population in {info['base_year']}")
cols[1].metric("Localities", f"{facts['localities']:,.0f}",
               help=f"{facts['areas']:,} {info['area_label']}s in {facts['neighbourhoods']:,} "
                    f"{info['neighbourhood_label']}s")
cols[2].metric("Engagement activities", f"{facts['activities']:,.0f}", help=f"Run by {facts['partners']} partners")
cols[3].metric("Responses so far", f"{facts['responses']:,.0f}")

st.dataframe(ui.compute(home.localities), hide_index=True, width="stretch")
