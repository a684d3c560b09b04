"""About the data: every metric's definition, and where each figure comes from."""
import streamlit as st

from analytics import home, metrics, needs, reach, ui

info = ui.page_setup("About the data", "📖")
band = ui.compute(reach.flag_band)
text = {key: ui.plain(info[key]) for key in ("name", "area_label", "neighbourhood_label", "deprivation_index")}
st.markdown(f"""
**{text['name']}** — base year {info['base_year']}; small areas are {text['area_label']}s, grouped into
{text['neighbourhood_label']}s and localities; deprivation from {text['deprivation_index']}.

**Privacy.** Engagement responses are personal data. The dashboard shows only aggregates, protected as the
Office for National Statistics protects its Census 2021 tables (cell-key perturbation): every count of people is
moved by a small, fixed amount that depends on who it counts, so the same people always show the same figure,
and subtracting one table from another gives nothing exact. No count from 1 to {int(info['suppress_below']) - 1}
is ever shown: fewer than {info['suppress_below']} people is "withheld". Periods are whole months.

**Projections** use the ratio method Public Health Scotland uses for locality profiles: the partnership's
projection for each age band and sex, shared out by each area's share of that band and sex's base-year
residents, so areas and localities add up exactly to the published figure (a locality's own published rows are
used as they are).

**Intervals and flags.** People answer in activities, and people at the same activity tend to be alike, so
intervals for who was heard treat each activity as one cluster (an open partnership-wide survey's answers count
one by one) and are widened by the design effect this gives; where a population is an estimate with a range,
the interval covers the range. A group is flagged under- or over-represented only when chance is ruled out
across all the groups compared at once (Holm's method, 5%) and its ratio is outside {band[0]:g}–{band[1]:g};
groups with a target are compared with the target. Other proportions (weighted support, the panel) use the
Wilson score interval.
""")
if info.get("source") or info.get("notes"):
    st.header("How this pack was made")
    st.markdown(ui.plain(info.get("source", "")))
    for note in filter(None, info.get("notes", "").splitlines()):
        st.markdown(f"- {ui.plain(note)}")

st.header("Metric definitions")
ui.table(metrics.definitions(), "metric_definitions")
st.header("Need indicators and their sources")
ui.table(ui.compute(needs.indicators), "need_indicator_sources")
st.header("Communities of identity and interest")
st.caption("Where no reliable population estimate exists, the partnership sets a minimum number of people to hear "
           "from instead (the `target_min` column of communities.csv).")
ui.table(ui.compute(home.community_sources), "community_sources")
