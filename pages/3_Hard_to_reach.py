"""Hard-to-reach finder: who have we not heard from, relative to population and need — and how we could."""
import pandas as pd
import streamlit as st

from analytics import describe, figures, home, needs, reach, ui

info = ui.page_setup("Hard to reach", "🔎")
st.markdown("Every locality, deprivation quintile, age–sex group and community, ranked by **need-weighted "
            "shortfall**: how many more people we would have heard if engagement followed each group's share of "
            "residents and of projected need. Each gap comes with what reached that group best elsewhere.")
ui.stop_if_no_engagement()
localities = list(ui.compute(home.localities)["locality"])
f = ui.engagement_filters(localities)
labels = {"all": "All need indicators", **dict(ui.compute(needs.indicators)[["indicator", "label"]].values)}
c1, c2 = st.columns(2)
with c1:
    need = ui.query_choice("need", list(labels), "all", "Need measure", format_func=labels.get)
with c2:
    weight = ui.query_choice("weight", [0.0, 0.25, 0.5, 0.75, 1.0], 0.5, "Weight on need (0 = population only)",
                             widget=st.select_slider)

gaps = ui.compute(reach.hard_to_reach, need=need, need_weight=weight, **f)
under = reach.under_reached(gaps)
st.subheader(f"{len(under)} groups are under-reached relative to their population and their need")
st.caption(ui.said(("gap_meaning",), lambda: describe.gap_meaning(ui.compute(reach.flag_band))))
st.markdown(ui.said(("under_reached", need, weight, *f.values()),
                    lambda: "\n".join(f"- {ui.sentence(describe.gap(row))}" for _, row in under.head(5).iterrows())))

top = gaps.head(20)
ui.chart(ui.figure(("shortfalls", need, weight, *f.values()), lambda: figures.bars(
    top, "rank_value", "group", "The 20 largest need-weighted shortfalls (respondents), with 95% intervals",
    "shortfall (respondents)", error=("shortfall_low", "shortfall_high"), text_format="{:,.0f}", flag="flag")),
         "Bars show how many more people we would expect to have heard from; for groups whose counts are withheld, "
         "the bar is the smallest shortfall consistent with the withheld count.", top, "largest_shortfalls")

st.header("Action list")
st.caption("Every group, largest gap first, with the methods and partners that reached it best elsewhere. "
           "Download it to plan the next round of engagement.")
ui.table(lambda: gaps.drop(columns=["rank_value"]), "hard_to_reach_action_list", key=(need, weight, *f.values()))

st.header("Look at one group")
group = ui.query_choice("group", list(gaps["group"]), gaps["group"].iloc[0], "Group")
detail = (group, need, weight, *f.values())


def chosen() -> pd.Series:
    return gaps[gaps["group"] == group].iloc[0]


st.markdown(ui.said(("gap", *detail), lambda: ui.sentence(describe.gap(chosen()))))
ui.table(lambda: chosen().drop("rank_value").astype(str).rename_axis("measure").reset_index(name="value"),
         "group_detail", key=detail)
