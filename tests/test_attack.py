"""The automated attacker (bench/attack.py, issue 18): it must find what differencing gives away today, and every
count it claims must be the true one."""
from __future__ import annotations

import numpy as np
import pytest

from analytics import reach
from bench import attack


def test_lp_recovers_the_one_withheld_cell_of_a_2x2_table_from_its_margins():
    # cells [[10, ?], [7, 12]], rows 13 and 19, columns 17 and 15: ? = 13 − 10 = 3 (and 15 − 12 = 3).
    grid = np.array([[10, np.nan], [7, 12]])
    got = attack.lp_bounds(grid, np.array([13, 19]), np.array([17, 15]))
    assert got == [(0, 1, pytest.approx(3), pytest.approx(3))]


def test_lp_with_margins_as_upper_bounds_only_bounds_the_cell():
    # The same table when the margins may also count people the grid leaves out: 0 ≤ ? ≤ 3, not exact.
    got = attack.lp_bounds(np.array([[10, np.nan], [7, 12]]), np.array([13, 19]), np.array([17, 15]),
                           exact=(False, False))
    assert got == [(0, 1, pytest.approx(0), pytest.approx(3))]


def _exact(con, record: dict) -> int:
    """The true count the record claims: Σ sign × respondents in its cell under each term's filters, from the
    unsuppressed respondent cells (representation's base: aged 15+ or unknown age, every dimension known)."""
    total = 0
    for sign, given in record["terms"]:
        cells = reach.respondent_cells(con, 15, **given)
        for column, value in record["cell"].items():
            cells = cells[cells[column].astype(str) == value]
        total += sign * int(cells["respondents"].sum())
    return total


@pytest.mark.slow
def test_attacker_recovers_small_counts_on_the_demo_and_every_recovery_is_true(demo):
    limit = reach.threshold(demo)
    places = [{}] + [{"locality": p} for p in attack.published(demo, "locality").index]
    families = {"filters-method": attack.across_filters(demo, "method", bases=places),
                "days": attack.across_days(demo),
                "lp": attack.lp_audit(demo, filter_sets=[{}, {"method": "event"}])}
    for name, (attempts, records, *_) in families.items():
        assert attempts > 0, name
        for record in records:
            assert 0 <= record["value"] < limit, record
            assert record["value"] == _exact(demo, record), record
    # No protection against differencing yet: both families must recover small counts exactly.
    assert len(families["filters-method"][1]) >= 1
    assert len(families["days"][1]) >= 1
    assert any(r["value"] >= 1 for r in families["filters-method"][1] + families["days"][1])  # not only zeros
