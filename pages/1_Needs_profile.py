"""Needs profile: who lives here, how deprived it is, how that will change and what need it implies."""
import streamlit as st

from analytics import describe, figures, needs, ui
from analytics.metrics import metric

info = ui.page_setup("Needs profile", "🧭")
st.markdown("Who lives in each locality, how deprived it is, how that is projected to change, and the need for "
            "care that implies. Choose a locality, year, projection variant and need indicator; the address bar "
            "keeps your choices so the view can be shared.")

localities = ["All"] + list(ui.compute(needs.age_summary)["locality"].drop_duplicates().sort_values().loc[
    lambda s: s != "All"])
variants = ui.compute(needs.variants)
indicators = ui.compute(needs.indicators)
base_year = int(info["base_year"])

c1, c2, c3, c4 = st.columns(4)
with c1:
    locality = ui.query_choice("locality", localities, "All", "Locality",
                               format_func=ui.place_name)
with c2:
    variant = ui.query_choice("variant", list(variants["variant"]), variants["variant"].iloc[0], "Projection variant")
with c3:
    years = list(range(base_year, int(variants.set_index("variant").loc[variant, "last_year"]) + 1))
    year = ui.query_choice("year", years, min(base_year + 10, years[-1]), "Projection year")
with c4:
    labels = dict(zip(indicators["indicator"], indicators["label"]))
    indicator = ui.query_choice("indicator", list(labels), list(labels)[0], "Need indicator",
                                format_func=lambda v: labels[v])

place = "the partnership" if locality == "All" else locality

# --- Who lives here -------------------------------------------------------------------------------------------
st.header(f"Who lives in {ui.plain(place)}")
summary = ui.compute(needs.age_summary)
row = summary.set_index("locality").loc[locality]
cols = st.columns(5)
for col, key, count in zip(cols, ("residents", "share_65", "share_75", "share_85", "dependency_ratio"),
                           ("residents", "aged_65", "aged_75", "aged_85", None)):
    m = metric(key)
    col.metric(m.label, m.format(row[key]), help=m.definition + (f" {row[count]:,.0f} people." if count else ""))

pyramid = ui.compute(needs.pyramid, locality=locality)
future = ui.compute(needs.projected_pyramid, year=year, locality=locality, variant=variant)
said = ui.said(("age_profile", locality), lambda: describe.age_profile(summary, locality))
ui.chart(ui.figure(("pyramid", locality, year, variant), lambda: figures.pyramid(
    pyramid, f"Age and sex of residents, {place}, {base_year} and {year}", overlay=future,
    overlay_name=f"{year} ({variant})", reference_name="Partnership" if locality != "All" else f"{base_year}")),
         said, lambda: pyramid.merge(
             future.rename(columns={"population": f"population_{year}", "share": f"share_{year}"}),
             on=["sex", "age_band"]), f"age_sex_{locality}", slot="age_sex")

# --- Deprivation ----------------------------------------------------------------------------------------------
st.header("Deprivation")
profile = ui.compute(needs.deprivation_profile)
said = ui.said(("deprivation", locality), lambda: describe.deprivation(profile, locality))
fixed = ui.said(("deprivation", "All"), lambda: describe.deprivation(profile, "All"))
ui.chart(ui.figure(("deprivation",), lambda: figures.stacked_shares(
    profile, "locality", "quintile", "share", f"Residents by {info['deprivation_index']} quintile "
    "(1 = most deprived)", figures.QUINTILE_NAMES)),
         said, profile, "deprivation_by_locality", alt=fixed)

# --- Projections ----------------------------------------------------------------------------------------------
st.header("How the population is projected to change")
groups = ui.compute(needs.projection_by_age_group, locality=locality, variant=variant)
said = ui.said(("projection", locality, variant, year),
               lambda: describe.projection_lines(groups, locality, variant, year))
ui.chart(ui.figure(("projection", locality, variant), lambda: figures.lines(
    groups, "year", "index", "age_group", f"Projected residents by age group, {place}, {variant} "
    f"({base_year} = 100)", f"Index, {base_year} = 100", ":.0f")),
         said, groups, f"projection_{locality}_{variant}", slot="projection")

# --- Projected need -------------------------------------------------------------------------------------------
st.header("Projected need")
need = ui.compute(needs.need_table, year=year, locality=locality, variant=variant, base_year=base_year)
st.markdown(ui.said(("need_table", locality, year, variant),
                    lambda: ui.sentence(describe.need_table(need, locality, year))))
ui.table(need, f"projected_need_{locality}_{year}_{variant}", key=(locality, year, variant),
         column_config={"growth": st.column_config.NumberColumn("growth (%)", format="%+.1f"),
                        "base": st.column_config.NumberColumn(f"expected in {base_year}", format="%.0f"),
                        "projected": st.column_config.NumberColumn(f"expected in {year}", format="%.0f"),
                        "change": st.column_config.NumberColumn(format="%+.0f")})
src = indicators.set_index("indicator").loc[indicator, "source"]
st.caption(f"Rates for {ui.plain(labels[indicator].lower())}: {ui.plain(src)}. Definitions are on the About the data "
           "page.")

# --- Small areas ----------------------------------------------------------------------------------------------
# One map with a choice of colouring, not a map for each: every map whose figure changes with a filter is
# rebuilt by the browser, and a second map took a filter change past a second (bench/results.md).
st.header(ui.plain(f"{place[0].upper() + place[1:]}, {info['area_label']} by {info['area_label']}"))
colourings = {"need": f"Need index: {labels[indicator].lower()}, {year}", "deprivation": "Deprivation quintile"}
colour = ui.query_choice("map", list(colourings), "need", "Colour the map by", widget=st.radio,
                         format_func=lambda v: ui.plain(colourings[v]), horizontal=True)  # options read Markdown
if colour == "need":
    mapped = ui.compute(needs.need_by_area, indicator=indicator, year=year, variant=variant, locality=locality)
    said = ui.said(("need_map", indicator, year, variant, locality),
                   lambda: describe.need_map(mapped, labels[indicator], year))
    ui.chart(ui.figure(("need_map", indicator, year, variant, locality), lambda: figures.choropleth(
        ui.map_layer("area", locality), mapped, "area_code", "need_index", metric("need_index"),
        f"Need index: {labels[indicator].lower()}, {year} ({variant})", hover_name="area_name")),
             said, mapped, f"need_{indicator}_{year}_{variant}", slot="area_map")
else:
    shown = ui.compute(needs.area_deprivation, locality=locality)
    ui.chart(ui.figure(("quintile_map", locality), lambda: figures.quintile_map(
        ui.map_layer("area", locality), shown, f"{info['area_label'].capitalize()}s by deprivation quintile, {place}")),
             f"{(shown['quintile'] == 1).sum()} of the {len(shown)} {info['area_label']}s in {place} are in "
             "quintile 1.", shown, f"area_deprivation_{locality}", slot="area_map")
