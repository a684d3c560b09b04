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
           "Σ over age band and sex of the published rate × projected residents × the deprivation gradient of "
           "the area's quintile.", "higher is more need", "need_indicators.csv and need_gradient.csv; "
           "each indicator cites its publication"),
    Metric("need_per_1000", "Expected people per 1,000 residents", "per 1,000",
           "Expected people with the need per 1,000 projected residents.", "higher is more need",
           "need_indicators.csv", "{:.1f}"),
    Metric("need_index", "Need index", "partnership = 100",
           "Expected people per 1,000 residents relative to the partnership (100 = partnership average).",
           "higher is more need", "need_indicators.csv", "{:.0f}"),
    Metric("activities", "Activities", "activities", "Engagement activities in the ledger matching the filters.",
           "neutral", _LEDGER),
    Metric("respondents", "Respondents", "people", "People who gave details (a response row) in activities "
           "matching the filters.", "higher is better", _LEDGER),
    Metric("respondents_per_1000", "Respondents per 1,000 residents", "per 1,000",
           "Respondents living in the area per 1,000 residents. The 95% interval allows for people coming in "
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
    Metric("under_reached", "Under-reached groups", "groups",
           "Groups (localities, deprivation quintiles, age–sex groups and communities) heard less than their "
           "share of residents and need by a ratio below the pack's band (0.8 unless set), with chance ruled out "
           "across each kind of group at once (Holm's method, 5%), and not heard more than their share of "
           "residents; and communities with fewer heard than their target.", "lower is better", _LEDGER),
    Metric("proportional_similarity", "Proportional similarity", "0–1",
           "Σ over groups of the smaller of population share and respondent share: 1 = respondents mirror the "
           "population exactly.", "higher is better", _LEDGER, "{:.2f}"),
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
           "Kish's (Σw)² ÷ Σw²: how many people chosen at random the weighted panel or survey is worth.",
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
           "Austin's standardised difference between the respondents' and residents' share of a category; "
           "|d| above 0.1 is the usual sign of a meaningful gap.", "closer to 0 is better", _LEDGER, "{:+.2f}"),
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
