"""What the home page shows first: the partnership at a glance."""
from __future__ import annotations

import pandas as pd

from analytics.db import Store


def overview(con: Store) -> dict[str, object]:
    """One dict: residents, areas, neighbourhoods, localities, activities, partners, participants, responses,
    first_activity, last_activity."""
    return con.query("overview").iloc[0].to_dict()


def localities(con: Store) -> pd.DataFrame:
    """Columns: locality, areas, residents."""
    return con.query("localities")
