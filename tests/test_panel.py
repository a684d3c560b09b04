"""Citizens Panel: quotas, design weights and effective sample size with hand-worked numbers, relaxation of
quotas the volunteers cannot meet, reproducible selection, volunteer-list checks, suppression, and the page."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import panel
from analytics.build import build
from analytics.db import Store
from tests.apptest import run, shown_tables, small_counts
from tests.conftest import unsuppressed
from tests.packs import write_tiny_pack
from tests.test_auth import HASH, PASSWORD

# Tiny pack, residents aged 15+: 16 five-year bands (15-19 … 90+) × 10 people per area and sex. Per locality
# (two areas) and sex: 320. Age groups per locality and sex: 15-34 = 4 bands = 80, 35-64 = 6 bands = 120,
# 65-84 = 4 bands = 80, 85+ = 2 bands = 40. North = A1 (quintile 1) + A2 (quintile 2); South = A3 + A4.


def test_largest_remainder_adds_up_and_breaks_ties_in_order():
    # 10 × (1, 1, 1) / 3 = 3.33 each: floors 3, 3, 3 and the one left over goes to the first of the tie.
    assert panel.largest_remainder([1, 1, 1], 10).tolist() == [4, 3, 3]
    # 7 × (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4: floors 3, 2, 1; the one left over goes to the largest remainder (.5).
    assert panel.largest_remainder([5, 3, 2], 7).tolist() == [4, 2, 1]
    with pytest.raises(panel.PanelInputError):
        panel.largest_remainder([0, 0], 5)


def test_quotas_follow_population_shares_without_oversample(tiny):
    q = panel.quotas(tiny, size=100, strata=("locality", "age_group", "sex"), oversample=1.0, priority=())
    # Exact shares × 100: 15-34 80/1280 → 6.25, 35-64 → 9.375, 65-84 → 6.25, 85+ 40/1280 → 3.125, in each of the
    # four locality × sex cells. Floors 6 + 9 + 6 + 3 = 24, × 4 = 96; the four left go to the largest remainders,
    # the four 35-64 strata (.375), so 6, 10, 6, 3 in every locality and sex.
    assert q.groupby("age_group")["quota"].apply(set).to_dict() == {"15-34": {6}, "35-64": {10}, "65-84": {6},
                                                                     "85+": {3}}
    assert q["quota"].sum() == 100
    assert "priority_area" not in q
    assert q.loc[0, "stratum"] == "North, aged 15-34, women"


@pytest.mark.parametrize("size", [1000, 1237])
def test_quotas_add_up_and_stay_within_rounding_of_population_shares(demo, size):
    q = panel.quotas(demo, size=size, strata=("locality", "age_band", "sex", "quintile"), oversample=1.0)
    assert q["quota"].sum() == size
    assert (q["quota"] - size * q["population_share"]).abs().max() < 1


def test_design_weights_undo_an_oversample_exactly():
    # Two strata, 600 and 200 residents (shares .75, .25); B over-sampled 2×: allocation ∝ 600, 400 → 60, 40.
    # Design weights: .75/.60 = 1.25 and .25/.40 = 0.625; weighted shares 60·1.25/100 = .75, 40·0.625/100 = .25.
    strata = pd.DataFrame({"stratum": ["A", "B"], "population": [600, 200], "priority_area": [False, True]})
    q = panel.allocate(strata, 100, oversample=2.0).set_index("stratum")
    assert q["quota"].to_dict() == {"A": 60, "B": 40}
    assert q["design_weight"].tolist() == pytest.approx([1.25, 0.625])
    weighted = q["quota"] * q["design_weight"]
    assert (weighted / weighted.sum()).tolist() == pytest.approx(q["population_share"].tolist(), abs=1e-12)


def test_kish_effective_n_of_an_oversampled_design_hand_worked(tiny):
    q = panel.quotas(tiny, size=100, strata=("locality",), oversample=2.0, priority=("quintile:1",))
    q = q.set_index("stratum")
    # North splits into A1 (quintile 1, priority, 320 residents) and A2 (other, 320); South (other) 640.
    # Allocation ∝ 2·320, 320, 640 = 640, 320, 640 → 40, 20, 40. Weights .25/.4 = .625, .25/.2 = 1.25, .5/.4 = 1.25.
    assert q["quota"].to_dict() == {"North, other areas": 20, "North, priority area": 40, "South, other areas": 40}
    assert q["design_weight"].tolist() == pytest.approx([1.25, 0.625, 1.25])
    effects = panel.design_effects(q.reset_index())
    # Σw = 20·1.25 + 40·.625 + 40·1.25 = 100; Σw² = 20·1.5625 + 40·.390625 + 40·1.5625 = 109.375.
    # Kish n_eff = 100² / 109.375 = 91.428571; design effect 100 / 91.428571 = 1.09375.
    assert effects["effective_n"] == pytest.approx(91.428571, abs=1e-6)
    assert effects["design_effect"] == pytest.approx(1.09375)
    assert effects["priority_population_share"] == pytest.approx(0.25)
    assert effects["priority_panel_share"] == pytest.approx(0.40)


def test_design_effect_of_a_2x_oversample_of_quintile_1_on_the_demo(demo):
    plain = panel.design(demo, size=1000, oversample=1.0)
    doubled = panel.design(demo, size=1000, oversample=2.0, priority=("quintile:1",))
    assert plain["design_effect"] == pytest.approx(1.0, abs=0.01)  # only rounding makes weights unequal
    assert 1.05 < doubled["design_effect"] < 1.2
    assert doubled["priority_panel_share"] > doubled["priority_population_share"]


def test_relaxation_hand_example():
    # Quotas A 5, B 5; volunteers A 2, B 20. A is short by 3 = 5 − 2; B, the only stratum with spare volunteers,
    # takes the 3 places: relaxed A 2, B 8 — total still 10.
    plan = panel.relax(pd.Series({"A": 5, "B": 5}), pd.Series({"A": 2, "B": 20}))
    assert plan["shortfall"].to_dict() == {"A": 3, "B": 0}
    assert plan["relaxed_quota"].to_dict() == {"A": 2, "B": 8}


def test_relaxation_is_proportional_to_quotas_and_capped_by_spare_volunteers():
    quota = pd.Series({"A": 10, "B": 20, "C": 10})
    # A short by 6; B and C share it 20:10 → 4 and 2.
    plan = panel.relax(quota, pd.Series({"A": 4, "B": 100, "C": 100}))
    assert plan["relaxed_quota"].to_dict() == {"A": 4, "B": 24, "C": 12}
    # B has only 1 spare: it takes 1 (not 4) and C takes its 2, then the 3 still missing go to C alone.
    plan = panel.relax(quota, pd.Series({"A": 4, "B": 21, "C": 100}))
    assert plan["relaxed_quota"].to_dict() == {"A": 4, "B": 21, "C": 15}
    assert plan["relaxed_quota"].sum() == 40


def test_relaxation_when_the_pool_is_smaller_than_the_panel():
    plan = panel.relax(pd.Series({"A": 5, "B": 5}), pd.Series({"A": 2, "B": 6}))
    assert plan["relaxed_quota"].to_dict() == {"A": 2, "B": 6}  # everyone, 8 of 10
    assert plan["shortfall"].to_dict() == {"A": 3, "B": 0}


def test_draw_is_reproducible_and_never_picks_a_member_twice():
    pool = pd.DataFrame({"member_id": [f"V{i:03d}" for i in range(300)], "stratum": ["a", "b", "c"] * 100})
    counts = pd.Series({"a": 40, "b": 100, "c": 7})
    first = panel.draw(pool, counts, seed=42)
    assert first == panel.draw(pool.sample(frac=1, random_state=3), counts, seed=42)  # row order does not matter
    assert first != panel.draw(pool, counts, seed=43)
    assert len(first) == len(set(first)) == 147
    chosen = pool.set_index("member_id").loc[first, "stratum"].value_counts()
    assert chosen.to_dict() == {"b": 100, "a": 40, "c": 7}


def test_selection_on_the_demo_meets_the_quotas_reproducibly(demo):
    first = panel.select(demo, size=1000, oversample=2.0, seed=7)
    again = panel.select(demo, size=1000, oversample=2.0, seed=7)
    other = panel.select(demo, size=1000, oversample=2.0, seed=8)
    assert first.feasible and first.summary["selected"] == 1000
    assert first.ids["member_id"].tolist() == again.ids["member_id"].tolist()
    assert first.ids["member_id"].tolist() != other.ids["member_id"].tolist()
    assert first.ids["member_id"].is_unique and list(first.ids.columns) == ["member_id"]
    shown = first.table.dropna(subset=["relaxed_quota"])
    assert (shown["relaxed_quota"] == shown["quota"]).all()


def test_infeasible_quotas_are_relaxed_keeping_the_total(demo):
    # Quintile × locality × age band × sex strata, 4× in quintile 1: some strata run out of volunteers.
    chosen = panel.select(demo, size=3000, strata=("locality", "age_band", "sex", "quintile"), oversample=4.0,
                          seed=1)
    assert not chosen.feasible
    assert chosen.summary["short_strata"] > 0 and chosen.summary["moved"] > 0
    assert len(chosen.ids) == 3000 and chosen.ids["member_id"].is_unique
    assert "smallest change" in chosen.message


def volunteers(rows: list[str]) -> bytes:
    return ("member_id,area_code,sex,age_band\n" + "\n".join(rows) + "\n").encode()


def test_an_uploaded_volunteer_list_is_checked_row_by_row(tiny):
    data = volunteers(["V1,A1,F,65-69", "V2,ZZ9,F,65-69", "V3,A2,Q,65-69", "V1,A3,M,40-44", "V5,A4,M,66"])
    with pytest.raises(panel.PoolInvalid) as caught:
        panel.select(tiny, size=10, pool_csv=data)
    found = {(p.row, p.column) for p in caught.value.problems}
    # Spreadsheet rows: header is row 1, so V2 is row 3, V3 row 4, the repeated V1 row 5, V5 row 6.
    assert {(3, "area_code"), (4, "sex"), (5, "member_id"), (6, "age_band")} <= found
    with pytest.raises(panel.PoolInvalid, match="column is missing"):
        panel.select(tiny, size=10, pool_csv=b"member_id,area\nV1,A1\n")


def test_an_uploaded_volunteer_list_is_used_for_selection(tiny):
    data = volunteers([f"V{i},A{1 + i % 4},{'FM'[i % 2]},{15 + 5 * (i % 10)}-{19 + 5 * (i % 10)}" for i in range(80)]
                      + ["K1,A1,F,10-14"])
    chosen = panel.select(tiny, size=20, strata=("locality", "sex"), oversample=1.0, priority=(), seed=5,
                          pool_csv=data)
    # 80 volunteers aged 15+, 20 in each locality × sex (i mod 4 fixes the area, and so sex); K1 is under 15.
    assert chosen.summary["volunteers"] == 80 and chosen.summary["outside_base"] == 1
    assert chosen.table.set_index("stratum")["available"].tolist() == [20, 20, 20, 20]
    assert chosen.feasible and len(chosen.ids) == 20 and "K1" not in set(chosen.ids["member_id"])


@pytest.fixture(scope="module")
def tiny_with_panel(tmp_path_factory) -> Store:
    """The tiny pack (threshold 0) with a panel ledger: M4 has left, M5 is under 15."""
    folder = tmp_path_factory.mktemp("tiny_panel")
    ledger = ("member_id,area_code,sex,age_band,communities,joined_on,status\n"
              "M1,A1,F,65-69,,2025-01-10,active\nM2,A1,F,70-74,Carers,2025-01-11,active\n"
              "M3,A3,M,20-24,,2025-01-12,active\nM4,A2,M,85-89,,2025-01-13,left\nM5,A4,F,10-14,,2025-01-14,active\n")
    build(write_tiny_pack(folder / "pack", {"panel.csv": ledger}), folder / "store.duckdb")
    return unsuppressed(folder / "store.duckdb")


def test_progress_counts_active_members_against_quota(tiny_with_panel):
    t = panel.progress(tiny_with_panel, "ledger", size=100, strata=("locality", "sex"), oversample=1.0, priority=())
    t = t.set_index("stratum")
    # Quotas 25 each (320 of 1,280 residents per locality × sex). Active and aged 15+: M1, M2 (North women),
    # M3 (South men); M4 has left, M5 is 10-14.
    assert t["quota"].tolist() == [25, 25, 25, 25]
    assert t["recruited"].to_dict() == {"North, men": 0, "South, women": 0, "South, men": 1, "North, women": 2}
    assert t.loc["North, women", "gap"] == 23 and t.loc["North, women", "percent_of_quota"] == pytest.approx(8)
    assert set(t["status"]) == {"short"}
    assert panel.recruitment(tiny_with_panel) == {"active": 4.0, "ledger": 1.0}
    assert panel.recruitment(tiny_with_panel.__class__(tiny_with_panel.path))["ledger"] == 1.0


def test_small_counts_are_withheld(tiny_suppressed):
    prog = panel.progress(tiny_suppressed, "standin", size=100, strata=("locality", "sex"), oversample=1.0,
                          priority=())
    # Stand-in pool: R1 R2 R7 (North women), R3 R8 (North men), R4 (South women), R6 (South men): all under 5,
    # so each is published as 0 (withheld) or 5, never 1 … 4.
    shown = prog["recruited"].dropna()
    assert (shown == 5).all() and prog.loc[prog["withheld"], ["recruited", "gap"]].isna().all().all()
    assert set(prog["status"]) == {"short"}  # quotas of 25 ≥ 5: a withheld count is short anyway
    # Selection is for signed-in editors only: exact, and marked as such.
    chosen = panel.select(tiny_suppressed, size=100, strata=("locality", "sex"), oversample=1.0, priority=())
    assert chosen.table.set_index("stratum")["available"].to_dict() == {
        "North, women": 3, "North, men": 2, "South, women": 1, "South, men": 1}
    assert (chosen.table["protection"] == "unprotected: do not publish").all()
    assert chosen.summary["volunteers"] == 7 and chosen.summary["outside_base"] == 0
    assert panel.recruitment(tiny_suppressed) == {"active": pytest.approx(np.nan, nan_ok=True), "ledger": 0.0}


def test_a_stratum_that_rounds_to_no_members_has_no_weight():
    strata = pd.DataFrame({"stratum": ["big", "tiny"], "population": [9990, 10], "priority_area": [False, False]})
    q = panel.allocate(strata, 10).set_index("stratum")
    assert q["quota"].to_dict() == {"big": 10, "tiny": 0}
    assert np.isnan(q.loc["tiny", "design_weight"])
    assert panel.design_effects(q.reset_index())["empty_strata"] == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"strata": ("age_group", "age_band")}, "not both"),
    ({"strata": ("religion",)}, "unknown stratum"),
    ({"strata": ()}, "at least one stratum"),
    ({"size": 5000}, "larger than"),
    ({"oversample": 0.5}, "1 \\(none\\) or more"),
    ({"oversample": 2.0, "priority": ("deprived",)}, "not understood"),
])
def test_unusable_designs_say_what_to_change(tiny, kwargs, message):
    with pytest.raises(panel.PanelInputError, match=message):
        panel.quotas(tiny, **{"size": 100, **kwargs})


def test_page_runs_with_the_example_pool_on_the_demo(demo_env):
    at = run("pages/5_Citizens_panel.py")
    assert not at.exception, [e.message for e in at.exception]
    assert [m.value for m in at.metric][:2] == ["1,000", "96"]
    assert any("No editor account is set up" in i.value for i in at.info)  # selection is for editors only
    assert not [r for r in at.radio if r.key == "pool_source"]
    at.secrets["editors"] = {"accounts": {"lead": HASH}}
    at.run()
    at.text_input[0].input("lead")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    # The demo's panel.csv: 900 recruited, 76 of whom have left → 824 active, followed against the quotas.
    assert any("Active members in the panel ledger: **824**" in m.value for m in at.markdown)
    assert not [t for t in at.toggle if t.key == "standin_progress"]  # the example pool is for packs without one
    at.radio(key="pool_source").set_value("standin").run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("Every quota can be met" in s.value for s in at.success)
    assert all("member_id" not in table.columns for table in shown_tables(at))  # ids go to the download only
    assert not small_counts(at)
    at.radio(key="filter_by_age").set_value("age_band").run()
    at.radio(key="filter_by_quintile").set_value("yes").run()
    assert not at.exception and at.query_params["by_quintile"] in ("yes", ["yes"])
