"""Reach over time and side by side (analytics/trends.py, issue 20): quarters, the change test (hand-worked and by
simulation), consistency with the representation tables, and the page."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import describe, reach, trends
from tests import test_design as sim
from tests.apptest import run, small_counts


def test_quarters_cover_the_ledger_and_name_the_months_a_period_cuts(demo):
    assert trends.quarters(demo) == [
        ("2025 Q3 (Sep)", "2025-09-01", "2025-09-30"), ("2025 Q4", "2025-10-01", "2025-12-31"),
        ("2026 Q1", "2026-01-01", "2026-03-31"), ("2026 Q2", "2026-04-01", "2026-06-30"),
        ("2026 Q3 (Jul–Aug)", "2026-07-01", "2026-08-31")]
    assert trends.quarters(demo, date_from="2025-11-20", date_to="2026-01-03") == [
        ("2025 Q4 (Nov–Dec)", "2025-11-01", "2025-12-31"), ("2026 Q1 (Jan)", "2026-01-01", "2026-01-31")]
    assert trends.quarters(demo, date_from="2030-01-01", date_to="2030-02-01") == []


def _quarter(label: str, ratios, lows, highs, flags, withheld=None) -> pd.DataFrame:
    return pd.DataFrame({"quarter": label, "group": list("ABCD")[:len(ratios)], "ratio": ratios, "ratio_low": lows,
                         "ratio_high": highs, "flag": flags,
                         "withheld": withheld or [False] * len(ratios)})


def test_the_change_test_hand_worked():
    # se = interval width / 3.92: A 0.4/3.92 = 0.10204 in both quarters, so se of the change √2·0.10204 = 0.14431.
    # A: z = (1.0 − 0.5)/0.14431 = 3.465, p = 0.00053; B: z = 0.1/0.14431 = 0.693, p = 0.488. Holm over the two
    # tested: 0.00053 ≤ 0.025 rejects, 0.488 > 0.05 stops. C is withheld in Q2; D has a target, no interval.
    one = _quarter("Q1", [0.5, 1.0, 0.9, 0.5], [0.3, 0.8, 0.7, np.nan], [0.7, 1.2, 1.1, np.nan],
                   ["under", "in line", "in line", "under target"])
    two = _quarter("Q2", [1.0, 1.1, np.nan, 0.8], [0.8, 0.9, np.nan, np.nan], [1.2, 1.3, np.nan, np.nan],
                   ["in line", "in line", "withheld", "under target"], [False, False, True, False])
    got = trends.changes(pd.concat([one, _quarter("Q1.5", [1.0], [0.0], [9.0], ["in line"]), two]))
    assert got["trend"].tolist() == ["rose", "no clear change", trends.UNKNOWN, trends.UNTESTED]
    assert got[["first_quarter", "last_quarter"]].drop_duplicates().values.tolist() == [["Q1", "Q2"]]
    # A falling as far as it rose (0.5 → 0.0, the same se) is found as falling.
    fallen = two.assign(ratio=[0.0, 1.1, np.nan, 0.8])
    assert trends.changes(pd.concat([one, fallen]))["trend"].tolist()[:2] == ["fell", "no clear change"]
    assert describe.changes(got) == ("Between Q1 and Q2, representation clearly rose for A. 2 groups cannot be "
                                     "compared (withheld in a quarter, or measured against a target).")
    assert describe.changes(trends.changes(one)) == "One quarter only: choose a longer period to see change."


def test_each_quarter_is_the_representation_table_of_its_months(demo):
    table = trends.over_time(demo, "locality", method="online_survey")
    for label, first, last in trends.quarters(demo):
        alone = reach.representation(demo, "locality", method="online_survey", date_from=first, date_to=last)
        part = table[table["quarter"] == label].drop(columns="quarter").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone)
    # Editors' exact counts: the quarters add up to the whole period, person for person.
    exact = trends.over_time(demo, "locality", exact=True).groupby("group", sort=False)["respondents"].sum()
    whole = reach.representation(demo, "locality", exact=True).set_index("group")["respondents"]
    pd.testing.assert_series_equal(exact, whole, check_names=False)


def test_side_by_side_is_the_two_places_own_tables(demo):
    pair = trends.side_by_side(demo, "age_group+sex", ("Eastfield", "All"))
    for k, place in (("_1", "Eastfield"), ("_2", "All")):
        alone = reach.representation(demo, "age_group+sex", locality=place).set_index("group")
        got = pair.set_index("group")
        assert got[f"ratio{k}"].equals(alone["ratio"].reindex(got.index))
        assert got[f"flag{k}"].tolist() == alone["flag"].reindex(got.index).tolist()
    assert pair["group"].tolist()[:2] == ["Women aged 15-34", "Men aged 15-34"]  # the representation table's order


def test_side_by_side_says_where_each_group_is_under_reached():
    pair = pd.DataFrame({"group": list("ABCD"), "flag_1": ["under", "under", "in line", "over"],
                         "flag_2": ["under", "in line", "under", "in line"]})
    assert describe.side_by_side(pair, ("Eastfield", "All")) == (
        "Under-reached in Eastfield only: B; under-reached in the whole partnership only: C; under-reached in both: A.")
    assert describe.side_by_side(pair.iloc[3:], ("Eastfield", "All")) == (
        "No group is clearly under-reached in Eastfield or in the whole partnership.")


def test_default_groups_are_the_most_often_under_reached():
    table = pd.DataFrame({"group": list("ABCABC"), "flag": ["in line", "under", "over", "under", "under", "in line"]})
    assert trends.default_groups(table, most=2) == ["B", "A"]


# --- Simulation: two quarters of engagement representative in expectation, recruited in activities ---------------

def _table(pop: pd.DataFrame, cells: pd.DataFrame, dims: tuple[str, ...], label: str) -> pd.DataFrame:
    table = sim._flags(pop, cells, dims)
    return table.assign(group=reach._group_names(table, dims), quarter=label)


def _quarter_ledger(pop: pd.DataFrame, seed: int, plant=None) -> pd.DataFrame:
    """A quarter: 20 local activities and one open survey of 800 (a quarter of sim._ledger's year, roughly)."""
    return sim._ledger(pop, np.random.default_rng(seed), plant, local=20, surveys=(800,))


@pytest.mark.slow
def test_representative_quarters_show_a_change_in_at_most_1_run_in_20(demo):
    pop = sim._population(demo)
    runs = dict.fromkeys(sim.DIMENSIONS[:4], 0)
    for seed in range(60):
        one, two = _quarter_ledger(pop, 1000 + seed), _quarter_ledger(pop, 5000 + seed)
        for dims in runs:
            got = trends.changes(pd.concat([_table(pop, one, dims, "Q1"), _table(pop, two, dims, "Q2")]))
            runs[dims] += bool(got["trend"].isin([trends.ROSE, trends.FELL]).any())
    assert max(runs.values()) <= 3, runs  # 2 of 60 at most when written


@pytest.mark.slow
def test_a_group_heard_at_half_its_rate_then_in_full_is_found_to_rise(demo):
    pop = sim._population(demo)
    young_men = ((pop["sex"] == "M") & (pop["age_group"] == "15-34")).to_numpy()
    found = 0
    for seed in range(30):
        one, two = _quarter_ledger(pop, 2000 + seed, young_men), _quarter_ledger(pop, 6000 + seed)
        dims = ("age_group", "sex")
        got = trends.changes(pd.concat([_table(pop, one, dims, "Q1"), _table(pop, two, dims, "Q2")]))
        found += got.set_index("group").loc["Men aged 15-34", "trend"] == trends.ROSE
    assert found >= 22, found  # 25 of 30 when written


def test_the_page_shows_quarters_change_and_two_places(demo_env, demo):
    at = run("pages/2_Reach_over_time.py")
    assert not at.exception, [e.message for e in at.exception]
    assert at.multiselect[0].value == trends.default_groups(trends.over_time(demo, "locality"))
    assert any(m.value.startswith("Between 2025 Q3 (Sep) and 2026 Q3 (Jul–Aug), ") for m in at.markdown)
    # The side-by-side chart ignores the Locality filter, and says so.
    at.selectbox(key="filter_locality").set_value("Westhaven").run()
    assert any("does not follow the Locality filter" in c.value for c in at.caption)
    at.selectbox(key="filter_first").set_value("Riverside").run()
    assert at.query_params["first"] == "Riverside"
    assert not small_counts(at)
