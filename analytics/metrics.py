"""Every metric once: its label, unit, definition, polarity and source. Charts, tables, map legends and the
'About the data' page all read from here, so a definition is never written twice."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    definition: str
    polarity: str  # "higher is more need", "higher is better", "closer to 1 is better", "neutral"
    source: str
    fmt: str = "{:,.0f}"

    def format(self, value: float | None) -> str:
        return "withheld" if value is None or pd.isna(value) else self.fmt.format(value)


_POP = "The pack's small-area population file (population.csv)"
_PROJ = "The pack's projections (projections.csv), apportioned to areas by the ratio method"
_LEDGER = "The engagement ledger (activities.csv, responses.csv)"
_COMMENTS = "Comments (comments.csv) coded to themes at build, with the ledger's responses"
_PANEL = "The pack's population and deprivation files (residents aged 15+), and the panel design chosen"

METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("residents", "Residents", "people", "People living in the area in the base year.", "neutral", _POP),
    Metric("share_65", "Aged 65+", "% of residents", "Residents aged 65 or over as a share of all residents.",
           "higher is more need", _POP, "{:.1f}%"),
    Metric("share_75", "Aged 75+", "% of residents", "Residents aged 75 or over as a share of all residents.",
           "higher is more need", _POP, "{:.1f}%"),
    Metric("share_85", "Aged 85+", "% of residents", "Residents aged 85 or over as a share of all residents.",
           "higher is more need", _POP, "{:.1f}%"),
    Metric("dependency_ratio", "Dependency ratio", "per 100 aged 15–64",
           "Residents aged 0–14 and 65+ per 100 residents aged 15–64 (five-year bands do not split at 16).",
           "higher is more need", _POP, "{:.1f}"),
    Metric("quintile_share", "Residents by deprivation quintile", "% of residents",
           "Share of the locality's residents living in small areas of each deprivation quintile "
           "(1 = most deprived fifth of the country).", "higher in quintile 1 is more need",
           "The pack's deprivation index (deprivation.csv)", "{:.1f}%"),
    Metric("projected_residents", "Projected residents", "people",
           "Residents projected for the year and variant: the partnership projection for each age band and sex, "
           "shared out by each area's share of that band's base-year residents (the ratio method).",
           "neutral", _PROJ),
    Metric("growth", "Growth since the base year", "%", "Change from the base year to the chosen year, as a "
           "percentage of the base year.", "higher is more need", _PROJ, "{:+.1f}%"),
    Metric("expected", "Expected people", "people",
           "People expected to have the need: for each age band and sex, the published rate times the projected "
           "residents, adjusted for how deprived the area is (the deprivation gradient of its quintile), added up.", "higher is more need", "need_indicators.csv and need_gradient.csv; "
           "each indicator cites its publication"),
    Metric("need_per_1000", "Expected people per 1,000 residents", "per 1,000",
           "Expected people with the need per 1,000 projected residents.", "higher is more need",
           "need_indicators.csv", "{:.1f}"),
    Metric("need_index", "Need index", "partnership = 100",
           "Expected people per 1,000 residents relative to the partnership (100 = partnership average).",
           "higher is more need", "need_indicators.csv", "{:.0f}"),
    Metric("activities", "Activities", "activities", "Engagement activities in the ledger matching the filters.",
           "neutral", _LEDGER),
    Metric("respondents", "Respondents", "people", "People aged 15 or over who responded to activities matching "
           "the filters and whose home area, age and sex are known (every page counts these same people, so "
           "their figures agree). Published as the Office for National Statistics publishes census tables: each "
           "count moves by a small fixed amount, and fewer than the threshold is shown as withheld.",
           "higher is better", _LEDGER),
    Metric("respondents_per_1000", "Respondents per 1,000 residents", "per 1,000",
           "Respondents living in the area per 1,000 residents aged 15 or over. The 95% interval allows for people coming in "
           "activities (as the representation ratio's does); for localities the flag says whether the locality's "
           "share of respondents is clearly below or above its share of residents.", "higher is better", _LEDGER,
           "{:.1f}"),
    Metric("representation_ratio", "Representation ratio", "ratio",
           "The group's share of respondents divided by its share of the population: 1 = heard in proportion, "
           "below 1 = under-reached. The 95% interval is Wilson's on the effective number of respondents: "
           "activities count as clusters (an open partnership-wide survey's answers count one by one), and where "
           "the population is an estimate with a range the interval covers the range too. Communities with a "
           "target instead of an estimate: respondents ÷ target, no interval.",
           "closer to 1 is better", _LEDGER, "{:.2f}"),
    Metric("cluster_design_effect", "Design effect (activities)", "ratio",
           "How many times the variance of a group's share is larger because people come in activities rather "
           "than one by one (linearised, activities as clusters; never below the dimension's pooled value). Its "
           "square root is how many times wider the interval is.", "closer to 1 is better", _LEDGER, "{:.1f}"),
    Metric("representation_change", "Change in representation", "rose / fell / no clear change",
           "Whether a group's representation ratio clearly rose or fell between the first and the last quarter "
           "shown: the difference of the two quarters' ratios against its standard error (each read off the "
           "quarter's 95% interval, so clustering counts), with chance ruled out across the groups compared at "
           "once (Holm's method, 5%). Two flags side by side are not a change: 0.79 'under' next to 0.81 "
           "'in line' is none.", "rose is better for an under-reached group", _LEDGER, "{}"),
    Metric("under_reached", "Under-reached groups", "groups",
           "Groups (localities, deprivation quintiles, age–sex groups and communities) heard less than their "
           "share of residents and need by a ratio below the pack's band (0.8 unless set), with chance ruled out "
           "across each kind of group at once (Holm's method, 5%), and not heard more than their share of "
           "residents; and communities with fewer heard than their target.", "lower is better", _LEDGER),
    Metric("proportional_similarity", "Proportional similarity", "0–1",
           "How closely respondents mirror the population: for each group, the smaller of its share of residents "
           "and its share of respondents, added up over the groups. 1 = respondents mirror the population exactly; "
           "0.8 = a fifth of respondents would have to be swapped for the mix to match.", "higher is better", _LEDGER, "{:.2f}"),
    Metric("minmax_ratio", "Participation evenness (min/max)", "0–1",
           "Lowest group participation rate divided by the highest (Go Vocal's representativeness score).",
           "higher is better", _LEDGER, "{:.2f}"),
    Metric("shortfall", "Need-weighted shortfall", "respondents",
           "Respondents expected if engagement were in proportion to the group's share of projected need, minus "
           "respondents heard.", "higher is a bigger gap", _LEDGER),
    # The Citizens Panel designer and survey weighting (analytics/panel.py, analytics/weighting.py).
    Metric("panel_quota", "Quota", "members",
           "Members to recruit in a stratum: the panel size shared out in proportion to residents aged 15+, with "
           "priority strata's share multiplied by the over-sampling factor, rounded by largest remainder so the "
           "quotas add up to the panel size exactly.", "neutral", _PANEL),
    Metric("design_weight", "Design weight", "× the average member",
           "The stratum's share of residents divided by its share of the panel. Weighting members by it undoes the "
           "over-sample, so weighted panel results stand for residents.", "closer to 1 is better", _PANEL, "{:.2f}"),
    Metric("effective_n", "Effective sample size", "people",
           "How many people chosen at random the weighted panel or survey is worth: the more the weights differ, "
           "the fewer (Kish's effective sample size).",
           "higher is better", _PANEL),
    Metric("design_effect", "Design effect", "ratio",
           "Sample size ÷ effective sample size: how much unequal weights widen every interval's variance "
           "(1 = no loss).", "closer to 1 is better", _PANEL, "{:.2f}"),
    Metric("recruited", "Recruited", "people",
           "Active Citizens Panel members (panel.csv, status active) in the stratum; withheld when small.",
           "higher is better", "The Citizens Panel ledger (panel.csv)"),
    Metric("weighted_support", "Support after weighting", "% of respondents",
           "Share of respondents supporting a priority once raked to the population's margins, with a 95% Wilson "
           "interval on its effective sample size: p(1 − p) over the weighted share's linearised variance, "
           "adjusted for degrees of freedom (Korn and Graubard).", "neutral", _LEDGER + " and priorities.csv",
           "{:.1f}%"),
    Metric("standardised_difference", "Standardised difference", "d",
           "The gap between the respondents' and the residents' share of a category, measured against how much such "
           "shares vary (in standard deviations), so gaps in large and small categories compare fairly (Austin's "
           "standardised difference). A gap beyond ±0.1 is the usual sign of a meaningful difference.", "closer to 0 is better", _LEDGER, "{:+.2f}"),
    # The insight library (issue 22, analytics/insight/).
    Metric("theme_share", "People mentioning the theme", "% of people who commented",
           "People in the group whose comments mention the theme (a codebook phrase, or a discovered topic) as a "
           "share of the group's people who left a comment; both counts are published through cell-key protection "
           "and withheld under the threshold, and the 95% Wilson interval is worked from the published counts.",
           "neutral", _COMMENTS, "{:.0%}"),
    Metric("theme_mentioned", "People mentioning it", "people",
           "People whose comments mention the theme (published count; withheld when under the threshold).",
           "neutral", _COMMENTS),
    Metric("distinctive_z", "How distinctive (z)", "z-score",
           "Weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008) of the "
           "group mentioning the theme against everyone else, divided by its standard error: above about 2, the "
           "group raises it clearly more than others do.", "neutral", _COMMENTS, "{:+.1f}"),
    Metric("sentiment", "Mood of comments", "-1 to +1",
           "Mean VADER compound score of the comments mentioning the theme: below 0 mostly negative, above 0 "
           "mostly positive. A rough guide from a word list, not a reading of each comment.", "higher is better",
           _COMMENTS, "{:+.2f}"),
    Metric("insights_answered", "Insights with a response", "% of insights",
           "Insights with at least one action recorded in actions.csv (planned, in progress, done or not taken with "
           "its reason).", "higher is better", "The insight ledger (insights.csv, actions.csv)", "{:.0%}"),
    Metric("reported_back", "Reported back", "% of insights",
           "Insights with an action whose outcome was reported back to the people who gave it (reported_back_on).",
           "higher is better", "The insight ledger (insights.csv, actions.csv)", "{:.0%}"),
    Metric("weight_cv", "Spread of weights (CV)", "ratio",
           "Standard deviation of the weights ÷ their mean; the design effect is about 1 + CV².",
           "lower is better", _LEDGER, "{:.2f}"),
)}


def metric(key: str) -> Metric:
    return METRICS[key]


def definitions() -> pd.DataFrame:
    """Columns: metric, unit, definition, polarity, source — for the 'About the data' page."""
    return pd.DataFrame([{"metric": m.label, "unit": m.unit, "definition": m.definition, "polarity": m.polarity,
                          "source": m.source} for m in METRICS.values()])


# --- Display names for codes and columns (issue 20) --------------------------------------------------------------
# Every column and coded value a viewer reads, on screen and in downloads, is named here once; ui.table and the
# CSV downloads read these, so no page or file shows a code such as focus_group or per_1000_low.

METHOD_NAMES = {"online_survey": "Online survey", "paper_survey": "Paper survey", "focus_group": "Focus group",
                "interview": "Interview", "meeting": "Meeting", "presentation": "Presentation", "event": "Event",
                "other": "Other"}
MODE_NAMES = {"in_person": "In person", "virtual": "Virtual", "hybrid": "Hybrid", "remote": "Remote"}
KIND_NAMES = {"identity": "Identity", "interest": "Interest"}
# Columns whose values are codes, and the names for them (indicators are named by the pack: need_indicators.csv).
CODED_COLUMNS = {"method": METHOD_NAMES, "mode": MODE_NAMES, "kind": KIND_NAMES}


@dataclass(frozen=True)
class Column:
    """A table column: its label, and how its values are written — 'count' (whole, thousands separators,
    withheld when missing), 'decimal1'/'decimal2', 'signed1'/'signed2', 'percent' (values already in %),
    'share' (a fraction, shown as %), 'date', 'text' or 'flag' (yes/no)."""
    label: str
    kind: str = "text"


_C = Column
COLUMNS: dict[str, Column] = {
    # places and groups
    "locality": _C("Locality"), "area_code": _C("Area code"), "area_name": _C("Area"),
    "neighbourhood_code": _C("Neighbourhood code"), "neighbourhood_name": _C("Neighbourhood"),
    "group": _C("Group"), "grp": _C("Group"), "kind": _C("Kind of group"), "community": _C("Community"),
    "communities": _C("Communities"), "dimension": _C("Dimension"), "stratum": _C("Stratum"),
    "margin": _C("Margin"), "label": _C("Name"), "category": _C("Need and reach"), "sex": _C("Sex"),
    "age_band": _C("Age band"), "age_group": _C("Age group"), "quintile": _C("Deprivation quintile"),
    "priority_area": _C("Priority area", "flag"), "year": _C("Year"), "indicator": _C("Need indicator"),
    "need_level": _C("Need"), "reach_level": _C("Reach"), "flag": _C("Compared with residents"),
    "vs_residents": _C("Compared with residents"), "withheld": _C("Withheld (small numbers)", "flag"),
    "source": _C("Source"), "measure": _C("Measure"), "value": _C("Value"),
    # people and counts
    "residents": _C("Residents", "count"), "population": _C("Residents", "count"),
    "population_low": _C("Residents (low estimate)", "count"),
    "population_high": _C("Residents (high estimate)", "count"), "target_min": _C("Target respondents", "count"),
    "respondents": _C("Respondents", "count"), "participants": _C("Participants", "count"),
    "activities": _C("Activities", "count"), "recruited": _C("Recruited", "count"), "quota": _C("Quota", "count"),
    "gap": _C("Still to recruit", "count"), "available": _C("Available", "count"),
    "supporters": _C("Supporters", "count"), "commenters": _C("People who commented", "count"),
    "mentioned": _C("People mentioning it", "count"), "busiest_window": _C("Activities in the busiest window",
                                                                            "count"),
    "days_apart": _C("Days apart", "count"), "iteration": _C("Iteration", "count"), "rank": _C("Rank", "count"),
    "expected": _C("Expected", "count"), "shortfall": _C("Shortfall (respondents)", "count"),
    "shortfall_low": _C("Shortfall, 95% interval from", "count"),
    "shortfall_high": _C("Shortfall, 95% interval to", "count"),
    "base": _C("Expected in the base year", "count"), "projected": _C("Expected in the year chosen", "count"),
    "change": _C("Change (people)", "count"), "residents_per_member": _C("Residents per member", "count"),
    "population_2034": _C("Residents, projected", "count"),
    # rates, ratios and shares
    "per_1000": _C("Respondents per 1,000 residents", "decimal1"),
    "per_1000_low": _C("Per 1,000, 95% interval from", "decimal1"),
    "per_1000_high": _C("Per 1,000, 95% interval to", "decimal1"),
    "respondents_per_1000": _C("Respondents per 1,000 residents", "decimal1"),
    "need_per_1000": _C("Expected per 1,000 residents", "decimal1"), "need_index": _C("Need index", "decimal1"),
    "busiest_per_10k": _C("Activities per 10,000 residents in the busiest window", "decimal2"),
    "ratio": _C("Representation ratio", "decimal2"), "ratio_low": _C("Ratio, 95% interval from", "decimal2"),
    "ratio_high": _C("Ratio, 95% interval to", "decimal2"),
    "proportional_similarity": _C("Proportional similarity", "decimal2"),
    "minmax_ratio": _C("Participation evenness (min/max)", "decimal2"),
    "design_effect": _C("Design effect", "decimal2"), "design_weight": _C("Design weight", "decimal2"),
    "growth": _C("Growth (%)", "signed1"), "index": _C("Index (base year = 100)", "decimal1"),
    "share": _C("Share (%)", "percent"), "partnership_share": _C("Partnership share (%)", "percent"),
    "share_2034": _C("Share, projected (%)", "percent"), "panel_share": _C("Share of the panel (%)", "percent"),
    "percent_of_quota": _C("% of quota", "percent"), "unweighted": _C("Support as heard (%)", "percent"),
    "unweighted_low": _C("As heard, 95% interval from (%)", "percent"),
    "unweighted_high": _C("As heard, 95% interval to (%)", "percent"),
    "weighted": _C("Support after weighting (%)", "percent"),
    "weighted_low": _C("Weighted, 95% interval from (%)", "percent"),
    "weighted_high": _C("Weighted, 95% interval to (%)", "percent"),
    "population_share": _C("Share of residents (%)", "share"),
    "respondent_share": _C("Share of respondents (%)", "share"),
    "sample_share": _C("Share of respondents (%)", "share"),
    "weighted_share": _C("Weighted share (%)", "share"), "share_low": _C("Share, 95% interval from (%)", "share"),
    "share_high": _C("Share, 95% interval to (%)", "share"),
    "std_diff_before": _C("Standardised difference before", "signed2"),
    "std_diff_after": _C("Standardised difference after", "signed2"),
    "max_margin_error": _C("Largest gap to a margin (share)", "text"),
    "log_odds": _C("Log-odds", "signed2"), "z": _C("How distinctive (z)", "signed1"),
    "sentiment": _C("Mood of comments", "signed2"),
    # activities, dates and words
    "method": _C("Method"), "mode": _C("Mode"), "partner": _C("Partner"), "activity_id": _C("Activity"),
    "title": _C("Title"), "first_id": _C("First activity"), "first_title": _C("First activity's title"),
    "first_partner": _C("First activity's partner"), "first_start": _C("First activity starts", "date"),
    "second_id": _C("Second activity"), "second_title": _C("Second activity's title"),
    "second_partner": _C("Second activity's partner"), "second_start": _C("Second activity starts", "date"),
    "window_start": _C("Busiest window starts", "date"), "month": _C("Month", "month"),
    "best_methods": _C("Methods that reached them best elsewhere"),
    "best_partners": _C("Partners that reached them best elsewhere"),
    "metric": _C("Measure"), "unit": _C("Unit"), "definition": _C("Definition"), "polarity": _C("Which way is better"),
    "insight_id": _C("Insight"), "theme": _C("Theme"), "themes": _C("Themes"), "words": _C("Words that mark it"),
    "summary": _C("Summary"), "decision": _C("Decision"), "owner": _C("Owner"), "status": _C("Status"),
    "reason": _C("Reason"), "link": _C("Link"), "priority": _C("Priority"), "priorities": _C("Priorities"),
    "activities_per_10k": _C("Activities per 10,000 residents", "decimal2"),
    "rank_value": _C("Bar length (shortfall, or the least a withheld count allows)", "count"),
    "action_id": _C("Action"), "actions": _C("Actions"), "activity": _C("Activity"),
    "last_heard": _C("Last heard", "date"), "published_on": _C("Published", "date"),
    "reported_back_on": _C("Reported back", "date"),
    # reach over time and side by side (analytics/trends.py)
    "quarter": _C("Quarter"), "first_quarter": _C("First quarter"), "last_quarter": _C("Last quarter"),
    "first_ratio": _C("Ratio in the first quarter", "decimal2"),
    "last_ratio": _C("Ratio in the last quarter", "decimal2"),
    "first_flag": _C("Flag in the first quarter"), "last_flag": _C("Flag in the last quarter"),
    "trend": _C("Change in representation (first to last quarter)"),
    **{f"{code}_{k}": _C(f"{place}: {label}", kind) for k, place in (("1", "First place"), ("2", "Second place"))
       for code, label, kind in (("respondents", "respondents", "count"), ("ratio", "representation ratio", "decimal2"),
                                 ("ratio_low", "ratio, 95% interval from", "decimal2"),
                                 ("ratio_high", "ratio, 95% interval to", "decimal2"),
                                 ("flag", "compared with residents", "text"))},
}


def column(code: str) -> Column:
    """The column's entry, or one made from its code (words, sentence case) for a column not yet registered."""
    return COLUMNS.get(code) or Column(str(code).replace("_", " ").capitalize())


def display(value: object) -> str:
    """A coded value (a method, mode or kind of group) as its name; anything else as written."""
    text = str(value)
    return METHOD_NAMES.get(text) or MODE_NAMES.get(text) or KIND_NAMES.get(text) or text


def name_codes(text: str) -> str:
    """Method codes inside a sentence (e.g. 'focus_group (20.5% of its respondents)') written as words."""
    for code, name in METHOD_NAMES.items():
        if "_" in code:
            text = text.replace(code, name.lower())
    return text


def registry_codes() -> set[str]:
    """Every code the registry names: a viewer should never read one of these with its underscore."""
    return {c for c in (*COLUMNS, *METHOD_NAMES, *MODE_NAMES, *METRICS) if "_" in c}
