"""Reach over time: is each group's representation getting better or worse, quarter by quarter, and two places
side by side."""
import streamlit as st

from analytics import describe, figures, home, trends, ui
from analytics.metrics import metric

info = ui.page_setup("Reach over time", "📈")
st.markdown("Representation quarter by quarter — is each locality and community being heard more or less in "
            "proportion to who lives there? — and two places side by side. Figures for small groups are withheld "
            f"(fewer than {info['suppress_below']} people) to protect respondents.")
ui.stop_if_no_engagement()
localities = list(ui.compute(home.localities)["locality"])
f = ui.engagement_filters(localities)
key = tuple(f.values())
choices = {"locality": "locality", "community": "community", "age_group+sex": "age and sex",
           "quintile": "deprivation quintile"}

st.header("Quarter by quarter")
dimension = ui.query_choice("by", list(choices), "locality", "Compare by", format_func=choices.get)
table = ui.compute(trends.over_time, dimension=dimension, **f)
groups = list(dict.fromkeys(table["group"]))
shown = st.multiselect("Groups on the chart", groups, default=trends.default_groups(table), key=f"groups_{dimension}")
chosen = table[table["group"].isin(shown)]
ui.chart(ui.figure(("over_time", dimension, tuple(shown), *key), lambda: figures.trend(
    chosen, "quarter", "ratio", "group", f"Representation ratio by {choices[dimension]}, each quarter, with 95% "
    "intervals (1 = heard in proportion)", metric("representation_ratio").label, ("ratio_low", "ratio_high"), "flag")),
         "Each point is one quarter's representation ratio: a group's share of that quarter's respondents over its "
         "share of residents. A filled marker is flagged under or over in that quarter (Holm's method across the "
         "quarter's groups); a hollow one is in line or withheld. Quarters hear fewer people than the whole period, "
         "so their intervals are wider.", table, f"representation_by_quarter_{dimension}", slot="over_time")
changes = trends.changes(table)
st.markdown(ui.said(("changes", dimension, *key), lambda: ui.sentence(describe.changes(changes))),
            help=metric("representation_change").definition)
ui.table(changes, f"change_by_quarter_{dimension}", key=(dimension, *key))

st.header("Two places side by side")
c1, c2, c3 = st.columns(3)
with c1:
    first = ui.locality_choice(localities, "first", localities[0] if localities else "All", "First place")
with c2:
    second = ui.locality_choice(localities, "second", "All", "Second place")
with c3:
    side_by = ui.query_choice("side_by", list(trends.COMPARE), "age_group+sex", "Compare by",
                              format_func=choices.get)
pair = ui.compute(trends.side_by_side, dimension=side_by, places=(first, second), **{**f, "locality": "All"})
names = (ui.place_name(first), ui.place_name(second))
ui.chart(ui.figure(("side_by_side", side_by, first, second, *key), lambda: figures.paired_bars(
    pair, "group", {"ratio_1": names[0], "ratio_2": names[1]},
    f"Representation ratio by {choices[side_by]}: {names[0]} and {names[1]} (1 = heard in proportion)",
    metric("representation_ratio").label, errors={"ratio_1": ("ratio_low_1", "ratio_high_1"),
                                                  "ratio_2": ("ratio_low_2", "ratio_high_2")},
    text_format="{:.2f}", references=(1,))),
         ui.said(("side_by_side", side_by, first, second, *key), lambda: describe.side_by_side(pair, (first, second)))
         + " These two places are chosen here, so this chart does not follow the Locality filter above.",
         pair, f"side_by_side_{side_by}", slot="side_by_side")
