"""What the home page shows first: the partnership at a glance."""
from __future__ import annotations

import pandas as pd

from analytics import needs, reach
from analytics.db import Store


def overview(con: Store) -> dict[str, object]:
    """One dict: residents, areas, neighbourhoods, localities, activities, partners, participants, responses,
    first_activity, last_activity."""
    return con.query("overview").iloc[0].to_dict()


def localities(con: Store) -> pd.DataFrame:
    """Columns: locality, areas, residents."""
    return con.query("localities")


def community_sources(con: Store) -> pd.DataFrame:
    """Columns: community, kind, population, population_low, population_high, target_min, source."""
    return con.query("community_sources")


LEVELS = ("low", "medium", "high")


def need_reach(con: Store, year: int, variant: str = "principal", exact: bool = False) -> pd.DataFrame:
    """Need × reach by neighbourhood for the bivariate map. Columns: neighbourhood_code, neighbourhood_name,
    locality, residents, need_index (all indicators, partnership = 100), respondents and per_1000 (withheld
    when small), need_level, reach_level (terciles: low / medium / high), category ('High need, low reach'…).
    A withheld response rate is ranked as the lowest (it is below the threshold), never shown."""
    need = con.query("need_by_neighbourhood", year=year, variant=variant)
    need["need_index"] = 100 * (need["expected"] / need["population"]) / (need["expected"].sum()
                                                                          / need["population"].sum())
    frame = reach.coverage_by_neighbourhood(con, exact=exact).merge(need[["neighbourhood_code", "need_index"]],
                                                       on="neighbourhood_code")
    frame["need_level"] = _terciles(frame["need_index"])
    shown = frame["per_1000"].notna()
    frame["reach_level"] = "low"  # withheld means fewer than the threshold responded: the lowest class
    frame.loc[shown, "reach_level"] = _terciles(frame.loc[shown, "per_1000"])
    frame["category"] = frame["need_level"].str.capitalize() + " need, " + frame["reach_level"] + " reach"
    return frame.drop(columns=["per_1000_low", "per_1000_high"])


def _terciles(values: pd.Series) -> pd.Series:
    if len(values) < 3:
        return pd.Series("medium", index=values.index)
    return pd.qcut(values.rank(method="first"), 3, labels=LEVELS).astype(str)


def headline(con: Store, year: int, variant: str = "principal", exact: bool = False) -> dict[str, float]:
    """The home page's figures that are not gaps: engagement_facts and aged_75 together."""
    return {**engagement_facts(con, exact), **aged_75(con, year, variant)}


def aged_75(con: Store, year: int, variant: str = "principal") -> dict[str, float]:
    """The part of the headline that depends on the year: aged_75_base, aged_75_projected, growth_75 (%)."""
    old = needs.growth(con, year, variant=variant, min_age=75)
    return {"aged_75_base": old["base"], "aged_75_projected": old["projected"], "growth_75": old["growth"]}


def engagement_facts(con: Store, exact: bool = False) -> dict[str, float]:
    """The part that does not: residents, activities, respondents (the published count of reach's one base, as on
    Engagement reach), per_1000 (of residents aged 15+), proportional_similarity and minmax_ratio (age × sex)."""
    facts = overview(con)
    score = reach.scores(con, "age_band+sex", exact=exact).iloc[0]
    return {"residents": facts["residents"], "respondents": score["respondents"],
            "per_1000": reach.overall_rate(con, exact=exact), "activities": facts["activities"],
            "proportional_similarity": score["proportional_similarity"], "minmax_ratio": score["minmax_ratio"]}


def under_reached(con: Store, exact: bool = False) -> pd.DataFrame:
    """Every group under-reached relative to its population and its need, largest gap first (rows of
    reach.hard_to_reach): how many there are, and the first few as sentences, come from this one result."""
    return reach.under_reached(reach.hard_to_reach(con, exact=exact))
