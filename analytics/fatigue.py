"""Consultation fatigue: who is being asked too often, and activities that ask the same people twice."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import config
from analytics.db import Store
from analytics.disclosure import withhold
from analytics.reach import filters, population_cells, published_counts, respondent_cells, threshold


def _busiest_window(dates: pd.Series, days: int) -> tuple[int, pd.Timestamp | None]:
    """Most activities starting within any `days`-long window, and the window's first day."""
    ordered = np.sort(pd.to_datetime(dates).to_numpy())
    if not len(ordered):
        return 0, None
    ends = np.searchsorted(ordered, ordered + np.timedelta64(days, "D"), side="left")
    counts = ends - np.arange(len(ordered))
    best = int(np.argmax(counts))
    return int(counts[best]), pd.Timestamp(ordered[best])


def contacts(con: Store, window_days: int = 90, max_activities: int = 8, max_per_10k: float = 1.5,
             exact: bool = False, **given: str) -> pd.DataFrame:
    """How often each locality and community was asked, and how many of its people answered. Columns: kind
    (Locality / Community), group, activities, activities_per_10k (localities only), busiest_window (most
    activities starting within any `window_days`), window_start, flag ('asked too often' when busiest_window >
    max_activities, else ''), respondents and respondents_per_1000 (residents aged 15+, or the community's
    estimate) in the period: counts of people of the one base of analytics/reach.py, published as everywhere
    (activities are not personal data)."""
    f = filters(**given)
    acts = con.query("activities_filtered", **{**f, "locality": "All"})
    groups = [("Locality", loc, part) for loc, part in acts[acts["locality"] != config.ALL_LOCALITIES]
              .groupby("locality")]
    aimed = acts.merge(con.query("activity_communities_all"), on="activity_id")
    groups += [("Community", name, part) for name, part in aimed.groupby("community")]
    rows = [{"kind": kind, "group": name, "activities": len(part),
             **dict(zip(("busiest_window", "window_start"), _busiest_window(part["start_date"], window_days)))}
            for kind, name, part in groups]
    if not rows:  # no activity in these filters (issue 19: an empty set raised KeyError 'group')
        return _empty_contacts()
    table = pd.DataFrame(rows)
    residents = population_cells(con, 0).groupby("locality")["population"].sum()
    per_10k = 1e4 / table["group"].map(residents).astype(float)
    table["activities_per_10k"] = table["activities"] * per_10k
    table["busiest_per_10k"] = table["busiest_window"] * per_10k
    too_often = np.where(table["kind"] == "Locality", table["busiest_per_10k"] > max_per_10k,
                         table["busiest_window"] > max_activities)
    table["flag"] = np.where(too_often, "asked too often", "")
    table = _heard(con, table, f, exact)
    return table.sort_values(["kind", "busiest_window"], ascending=[False, False], ignore_index=True)


CONTACT_COLUMNS = {"kind": str, "group": str, "activities": "int64", "busiest_window": "int64",
                   "window_start": "datetime64[ns]", "activities_per_10k": float, "busiest_per_10k": float,
                   "flag": str, "respondents": float, "respondents_per_1000": float}


def _empty_contacts() -> pd.DataFrame:
    """The contacts table with no rows, and the columns (and types) it has when there are some."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in CONTACT_COLUMNS.items()})


def _heard(con: Store, table: pd.DataFrame, f: dict[str, str], exact: bool) -> pd.DataFrame:
    """Respondents per locality (by home) and per community in the period, per 1,000 of their population: the
    same people as the coverage and community tables, so the same published counts."""
    scope, limit = {**f, "locality": "All"}, threshold(con)
    by_locality = published_counts(respondent_cells(con, 15, **scope), ["locality"], limit, exact)
    by_community = published_counts(con.query("community_respondents", min_age=15, **scope), ["community"], limit,
                                    exact)
    residents = population_cells(con, 15).groupby("locality")["population"].sum()
    sizes = con.query("community_denominators", locality="All").set_index("community")["population"].astype(float)
    local = table["kind"] == "Locality"
    table["respondents"] = np.where(local, table["group"].map(by_locality.set_index("locality")["respondents"]),
                                    table["group"].map(by_community.set_index("community")["respondents"])).astype(float)
    table["respondents"] = table["respondents"].fillna(0)
    table["respondents_per_1000"] = 1000 * table["respondents"] / np.where(
        local, table["group"].map(residents).astype(float), table["group"].map(sizes))
    return withhold(table, "respondents", 0 if exact else limit, ("respondents_per_1000",)).drop(columns="withheld")


def overlaps(con: Store, days: int = 28, **given: str) -> pd.DataFrame:
    """Pairs of activities in one locality aimed at the same community within `days` of each other.
    Columns: first_id, first_title, first_partner, first_start, second_id, second_title, second_partner,
    second_start, locality, community, days_apart."""
    f = filters(**given)
    return con.query("overlapping_activities", days=days, date_from=f["date_from"], date_to=f["date_to"])
