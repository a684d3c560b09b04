"""Engagement reach: who has been heard, where, how, and who is being asked too often."""
import streamlit as st

from analytics import describe, export, fatigue, figures, home, reach, ui
from analytics.metrics import metric

info = ui.page_setup("Engagement reach", "📣")
st.markdown("Who the partnership's engagement has heard, set against who lives here. Figures for small groups "
            f"are withheld (fewer than {info['suppress_below']} people) to protect respondents.")
ui.stop_if_no_engagement()
localities = list(ui.compute(home.localities)["locality"])
f = ui.engagement_filters(localities)
place = "the partnership" if f["locality"] == "All" else f["locality"]

overall = ui.compute(reach.scores, dimension="age_band+sex", **f).iloc[0]
mix = ui.compute(reach.method_mix, **f)
c = st.columns(4)
c[0].metric(metric("activities").label, f"{mix['activities'].sum():,.0f}")
c[1].metric(metric("respondents").label, metric("respondents").format(overall["respondents"]))
for col, key in zip(c[2:], ("proportional_similarity", "minmax_ratio")):
    col.metric(metric(key).label + " (age × sex)", metric(key).format(overall[key]), help=metric(key).definition)

st.header("Where responses came from")
hoods = ui.compute(reach.coverage_by_neighbourhood, **f)
key = tuple(f.values())
ui.chart(ui.figure(("reach_map", *key), lambda: figures.choropleth(
    ui.map_layer("neighbourhood", f["locality"]), hoods, "neighbourhood_code", "per_1000",
    metric("respondents_per_1000"),
    f"Respondents per 1,000 residents by {info['neighbourhood_label']}, {place}", hover_name="neighbourhood_name")),
         f"{int(hoods['withheld'].sum())} of {len(hoods)} {info['neighbourhood_label']}s are withheld (grey) because "
         "few people there responded.", hoods, "respondents_by_neighbourhood")

cover = ui.compute(reach.coverage_by_locality, **f)
ui.chart(ui.figure(("coverage", *key), lambda: figures.bars(
    cover, "per_1000", "locality", "Respondents per 1,000 residents by locality, with 95% intervals (dashed: "
    "partnership rate)", metric("respondents_per_1000").unit, error=("per_1000_low", "per_1000_high"),
    reference=ui.compute(reach.overall_rate, **f), flag="flag")),
         ui.said(("coverage", *key), lambda: describe.coverage(cover)), cover, "coverage_by_locality")

st.header("Who has been heard, and who has not")
choices = {"age_group+sex": "age and sex", "quintile": "deprivation quintile", "locality": "locality",
           "age_band": "five-year age band", "sex": "sex", "community": "community"}
dimension = ui.query_choice("by", list(choices), "age_group+sex", "Compare by", format_func=choices.get)
rep = ui.compute(reach.representation, dimension=dimension, **f)
said = ui.said(("representation", dimension, *key), lambda: describe.representation(rep, choices[dimension]))
st.markdown(ui.said(("flags", dimension, *key), lambda: describe.flags(
    ui.compute(reach.clustering, dimension=dimension, **f), rep, ui.compute(reach.flag_band))))
ui.chart(ui.figure(("representation", dimension, *key), lambda: figures.bars(
    rep, "ratio", "group", f"Representation ratio by {choices[dimension]} (1 = heard in proportion)",
    metric("representation_ratio").label, error=("ratio_low", "ratio_high"), reference=1, text_format="{:.2f}",
    flag="flag")),
         said, rep, f"representation_{dimension}", slot="representation")

heat = ui.compute(reach.representation, dimension="locality+community", **{**f, "locality": "All"})
said = ui.said(("heatmap", *key), lambda: describe.representation(heat, "locality and community"))
ui.chart(ui.figure(("heatmap", *key), lambda: figures.heatmap(
    heat, "community", "locality", "ratio", "Representation of each community within each locality "
    "(blue: over, red: under)", "ratio")),
         "Each cell compares a community's share of a locality's respondents with its share of residents. "
         + said, heat, "locality_by_community",
         narrow=lambda: export.ranked(heat, ["community", "locality"], "ratio", ("flag",)))

st.header("How people were reached")
ui.chart(ui.figure(("mix", *key), lambda: figures.bars(mix, "participants", "method", "Participants by method",
                                                     "people", text_format="{:,.0f}")),
         ui.said(("mix", *key), lambda: describe.method_mix(mix)), mix, "method_mix")
by_method = ui.compute(reach.scores, dimension="age_band+sex", by="method", **f)
st.markdown(f"**How representative each method's respondents were** (by age × sex): "
            f"{metric('proportional_similarity').label.lower()} and {metric('minmax_ratio').label.lower()}.")
ui.table(by_method, "representativeness_by_method", key=key, column_config={
    k: st.column_config.NumberColumn(metric(k).label, format="%.2f", help=metric(k).definition)
    for k in ("proportional_similarity", "minmax_ratio")})
months = ui.compute(reach.timeline, **f)
ui.chart(ui.figure(("timeline", *key), lambda: figures.stacked_bars(
    months, "month", "activities", "method", "Activities starting each month, by method", "activities")),
         ui.said(("timeline", *key), lambda: describe.timeline(months)), months, "activity_timeline")

st.header("Consultation fatigue")
c1, c2, c3 = st.columns(3)
window = c1.slider("Window (days)", 30, 180, 90, step=15)
per_10k = c2.slider("Flag a locality above this many activities per 10,000 residents in a window", 0.5, 5.0, 1.5,
                    step=0.25)
limit = c3.slider("Flag a community above this many activities in a window", 2, 20, 8)
contacts = ui.compute(fatigue.contacts, window_days=window, max_activities=limit, max_per_10k=per_10k, **f)
st.markdown(ui.said(("fatigue", window, limit, per_10k, *key),
                    lambda: ui.sentence(describe.fatigue(contacts, window))))
ui.table(contacts, "consultation_contacts", key=(window, limit, per_10k, *key))
pairs = ui.compute(fatigue.overlaps, days=28, date_from=f["date_from"], date_to=f["date_to"])
st.markdown(f"**{len(pairs)} pairs of activities** asked the same community in the same locality within four "
            "weeks of each other — worth coordinating.")
ui.table(pairs, "overlapping_activities", key=(f["date_from"], f["date_to"]))
