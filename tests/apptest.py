"""AppTest helpers shared by the page tests."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]

# Counts of people: none that a viewer sees may be under the pack's threshold (5 in every test pack).
COUNT_COLUMNS = ("respondents", "participants", "recruited", "available")


def run(page: str, params: dict[str, str] | None = None) -> AppTest:
    """Run a page (path from the project root) once, with the address's query parameters."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=120)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    return at.run()


def shown_tables(at: AppTest) -> list[pd.DataFrame]:
    """Every table a viewer can reach on the page: the ones behind each chart's 'The numbers behind this chart'
    are sent only once it is opened, so open them all first (as a viewer clicking each would)."""
    closed = [e.key for e in at.expander if (e.key or "").startswith("numbers_")]
    if closed:
        for key in closed:
            at.session_state[key] = True
        at.run()
    return [d.value for d in at.dataframe]


def small_counts(at: AppTest, threshold: int = 5) -> list[tuple[str, list]]:
    """(column, values) for every shown count column holding a value under the threshold (0 included), in tables
    not marked as an editor's exact figures (a `protection` column: "unprotected: do not publish")."""
    found = []
    for table in shown_tables(at):
        if "protection" in table.columns:
            continue
        for column in table.columns:
            if str(column).rstrip("_12") in COUNT_COLUMNS:  # respondents_1 (side by side) as well as respondents
                values = pd.to_numeric(table[column], errors="coerce").dropna()
                if (values < threshold).any():
                    found.append((column, values[values < threshold].tolist()))
    return found
