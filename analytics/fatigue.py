"""Consultation fatigue: who is being asked too often, and activities that ask the same people twice."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import config
from analytics.db import Store
from analytics.reach import filters, population_cells


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
             **given: str) -> pd.DataFrame:
    """How often each locality and community was asked (activities are not personal data, so nothing here
    needs withholding). Columns: kind (Locality / Community), group, activities, activities_per_10k
    (localities only), busiest_window (most activities starting within any `window_days`), window_start, flag ('asked too often'
    when busiest_window > max_activities, else '')."""
    f = filters(**given)
    acts = con.query("activities_filtered", **{**f, "locality": "All"})
    groups = [("Locality", loc, part) for loc, part in acts[acts["locality"] != config.ALL_LOCALITIES]
              .groupby("locality")]
    aimed = acts.merge(con.query("activity_communities_all"), on="activity_id")
    groups += [("Community", name, part) for name, part in aimed.groupby("community")]
    rows = [{"kind": kind, "group": name, "activities": len(part),
             **dict(zip(("busiest_window", "window_start"), _busiest_window(part["start_date"], window_days)))}
            for kind, name, part in groups]
    table = pd.DataFrame(rows)
    residents = population_cells(con, 0).groupby("locality")["population"].sum()
    per_10k = 1e4 / table["group"].map(residents).astype(float)
    table["activities_per_10k"] = table["activities"] * per_10k
    table["busiest_per_10k"] = table["busiest_window"] * per_10k
    too_often = np.where(table["kind"] == "Locality", table["busiest_per_10k"] > max_per_10k,
                         table["busiest_window"] > max_activities)
    table["flag"] = np.where(too_often, "asked too often", "")
    return table.sort_values(["kind", "busiest_window"], ascending=[False, False], ignore_index=True)


def overlaps(con: Store, days: int = 28, **given: str) -> pd.DataFrame:
    """Pairs of activities in one locality aimed at the same community within `days` of each other.
    Columns: first_id, first_title, first_partner, first_start, second_id, second_title, second_partner,
    second_start, locality, community, days_apart."""
    f = filters(**given)
    return con.query("overlapping_activities", days=days, date_from=f["date_from"], date_to=f["date_to"])
