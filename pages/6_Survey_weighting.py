"""Survey weighting: rake respondents to the population's margins and see what that does to the results."""
import streamlit as st

from analytics import figures, home, ui, weighting
from analytics.metrics import metric

info = ui.page_setup("Survey weighting", "⚖️")
st.markdown("Respondents are rarely a mirror of residents. Weighting (raking) gives each respondent a weight so "
            "that, together, they match the population aged 15 and over on the margins chosen below — then shows "
            "support for each strategic priority before and after, with intervals that allow for the weighting. "
            f"Counts under {info['suppress_below']} people are withheld.")
ui.stop_if_no_engagement()
localities = list(ui.compute(home.localities)["locality"])
f = ui.engagement_filters(localities)
AGES = {"age_band+sex": "Five-year band × sex", "age_group+sex": "Age group × sex", "none": "Not used"}
YES_NO = {"yes": "Yes", "no": "No"}
TRIMS = {0: "No trimming", 3: "⅓ to 3× average", 5: "⅕ to 5× average", 10: "1/10 to 10× average"}
c1, c2, c3, c4 = st.columns(4)
with c1:
    age = ui.query_choice("age_margin", list(AGES), "age_band+sex", "Age and sex", widget=st.radio,
                          format_func=AGES.get)
with c2:
    by_locality = ui.query_choice("locality_margin", list(YES_NO), "yes", "Locality", widget=st.radio,
                                  format_func=YES_NO.get, horizontal=True)
with c3:
    by_quintile = ui.query_choice("quintile_margin", list(YES_NO), "yes", "Deprivation quintile", widget=st.radio,
                                  format_func=YES_NO.get, horizontal=True)
with c4:
    trim = ui.query_choice("trim", list(TRIMS), 5, "Trim weights", format_func=TRIMS.get,
                           help="Capping extreme weights keeps one respondent from counting for too many, at the "
                                "cost of matching the margins less exactly.")
margins = weighting.margins_from(age, by_locality == "yes", by_quintile == "yes")
try:
    result = ui.compute(weighting.weight_responses, margins=margins, trim=trim, **f)
except weighting.WeightingInputError as exc:
    st.warning(ui.plain(exc))
    st.stop()

s = result.summary
c = st.columns(5)
c[0].metric("Respondents weighted", metric("respondents").format(s["respondents"]))
c[1].metric("Left out", metric("respondents").format(s["excluded"]),
            help="Respondents missing a raking variable (home area, sex or age band), or recorded as another gender "
                 "identity, which the population tables do not count, or aged under 15.")
c[2].metric(metric("effective_n").label, metric("effective_n").format(s["effective_n"]),
            help=metric("effective_n").definition)
c[3].metric(metric("design_effect").label, metric("design_effect").format(s["design_effect"]),
            help=metric("design_effect").definition)
c[4].metric(metric("weight_cv").label, metric("weight_cv").format(s["weight_cv"]),
            help=metric("weight_cv").definition)
st.markdown(weighting.describe(result))
key = (*f.values(), *margins, str(trim))
with st.expander("Convergence report"):
    ui.chart(ui.figure(("convergence", *key), lambda: figures.convergence(
        result.history, "Largest gap between the weighted respondents and a margin, after each iteration")),
             f"Raking stops when every margin is met to within 1e-8, when the weights stop changing (a cap the "
             f"margins cannot meet), or after 100 iterations; it took {s['iterations']:.0f}.", result.history,
             "raking_convergence")

st.header("Support for each strategic priority")
if result.support.empty:
    st.info("This area pack has no strategic priorities (priorities.csv), so there is no support to weight.")
else:
    support = result.support
    ui.chart(ui.figure(("support", *key), lambda: figures.paired_bars(
        support, "label", {"unweighted": "Respondents as heard", "weighted": "Weighted to residents"},
        "Support for each priority before and after weighting, with 95% intervals", "% of respondents",
        errors={"unweighted": ("unweighted_low", "unweighted_high"), "weighted": ("weighted_low", "weighted_high")})),
             weighting.describe_support(support), support, "priority_support_weighted")

st.header("How far weighting moved each margin")
st.caption(metric("standardised_difference").definition + " Before: respondents as heard; after: weighted.")
moved = result.margins
for tab, (name, part) in zip(st.tabs(list(moved["margin"].unique())), moved.groupby("margin", sort=False)):
    with tab:
        ui.chart(ui.figure(("margins", name, *key), lambda part=part, name=name: figures.paired_bars(
            part, "label", {"std_diff_before": "Before weighting", "std_diff_after": "After weighting"},
            f"{name}: standardised difference from residents", "standardised difference", text_format="{:+.2f}",
            references=(-0.1, 0.1))),
                 f"Dashed lines mark ±0.1. {int((part['std_diff_before'].abs() > 0.1).sum())} of {len(part)} "
                 f"categories were more than 0.1 away from residents before weighting (withheld ones not counted).",
                 part, f"margin_{name.lower().replace(' × ', '_').replace(' ', '_')}")
