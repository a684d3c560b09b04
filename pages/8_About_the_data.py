"""About the data: every metric's definition, and where each figure comes from."""
import streamlit as st

from analytics import home, metrics, needs, ui

info = ui.page_setup("About the data", "📖")
st.markdown(f"""
**{info['name']}** — base year {info['base_year']}; small areas are {info['area_label']}s, grouped into
{info['neighbourhood_label']}s and localities; deprivation from {info['deprivation_index']}.

**Privacy.** Engagement responses are personal data. The dashboard shows only aggregates: any count of fewer
than {info['suppress_below']} people is withheld, and so is any figure that would let it be worked back (a share,
rate or ratio computed from it, or the last cell of a row or column whose total is shown).

**Projections** use the ratio method Public Health Scotland uses for locality profiles: the partnership's
projected growth for each age band and sex, applied to each area's base-year residents of that band and sex.

**Intervals.** Proportions use the Wilson score interval; rates use Byar's method (exact Poisson limits below
10 events). Funnel-plot control limits are 99.8%.
""")
if info.get("source") or info.get("notes"):
    st.header("How this pack was made")
    st.markdown(info.get("source", ""))
    for note in filter(None, info.get("notes", "").splitlines()):
        st.markdown(f"- {note}")

st.header("Metric definitions")
ui.table(metrics.definitions(), "metric_definitions")
st.header("Need indicators and their sources")
ui.table(ui.compute(needs.indicators), "need_indicator_sources")
st.header("Communities of identity and interest")
st.caption("Where no reliable population estimate exists, the partnership sets a minimum number of people to hear "
           "from (target_min) instead.")
ui.table(ui.compute(home.community_sources), "community_sources")
