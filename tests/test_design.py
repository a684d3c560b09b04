"""Design-based intervals and flags (analytics/design.py): hand-worked values, the flag rules, and simulations of
engagement that is representative in expectation but arrives in activities, as real engagement does."""
from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

from analytics import design, reach
from analytics.build import build
from analytics.db import Store
from analytics.disclosure import KEY_SPACE

WITHHELD = "withheld"


def test_linearised_variance_design_effect_and_degrees_of_freedom_hand_worked():
    # Three activities (clusters) of 4, 2 and 4 people, 4, 0 and 1 of them in the group; an open survey of 10
    # with 3 in it. N = 20, Y = 8, p = 0.4.
    units = design.Units(np.array([[4, 0, 1, 3], [0, 2, 3, 7]], float), np.array([4, 2, 4, 10.0]),
                         np.array([False, False, False, True]))
    got = design.share_design(units)
    # Clusters: z = y − p·n = (2.4, −0.8, −0.6), mean 1/3; Σ(z − z̄)² = 2.0667² + 1.1333² + 0.9333² = 6.426667;
    # × m/(m−1) = 1.5 → 9.64. Survey: n/(n−1)·n·ȳ(1−ȳ) = 10/9·10·0.3·0.7 = 2.333333. Sum 11.973333;
    # p(1−p)N = 4.8, so deff = 2.494444 (the complement group has the same variance: pooled the same).
    assert got.share == pytest.approx([0.4, 0.6])
    assert got.deff == pytest.approx([2.494444, 2.494444], abs=1e-6)
    # Degrees of freedom: ρ from deff·N = 49.889 = 10 + Σn(1 + (n−1)ρ) → ρ = 29.889/26, capped at 1; weights
    # n² = 16, 4, 16: effective clusters 36²/528 = 2.4545, less one 1.4545. Survey: 10 with 9.
    # Satterthwaite: (10 + 36)² / (10²/9 + 36²/1.4545) = 2116 / 902.111 = 2.345609.
    assert got.df == pytest.approx(2.345609, abs=1e-5)
    assert (got.activities, got.open_surveys, got.n) == (3, 1, 20)


def test_open_surveys_alone_give_the_binomial_variance():
    # One open survey of 100 with 30 in the group: 100/99 · 100 · 0.3 · 0.7 / (0.21 · 100) = 100/99 → deff 1.0101.
    units = design.Units(np.array([[30.0], [70.0]]), np.array([100.0]), np.array([True]))
    got = design.share_design(units)
    assert got.deff == pytest.approx([100 / 99, 100 / 99]) and got.df == pytest.approx(99)


def test_wilson_interval_on_the_effective_size_hand_worked():
    # 40 of 400 with deff 2 → 200 effective, 20 of them: p = 0.1, z² = 3.841459; centre (0.1 + z²/400) /
    # (1 + z²/200) = 0.107539; half z/(1 + z²/200) · √(0.1·0.9/200 + z²/160000) = 0.041867.
    low, high = design.share_interval(np.array([40.0]), 400, np.array([2.0]), np.inf)
    assert (low[0], high[0]) == pytest.approx((0.065670, 0.149406), abs=1e-5)


def test_p_value_is_taken_at_the_nearer_end_of_the_share_range():
    # Share 0.1 against a population share known only within [0.12, 0.2]: test against 0.12.
    # se = √(0.12·0.88·2/400) = 0.0229783, t = 0.02/se = 0.870388, p = erfc(t/√2) = 0.384088.
    p = design.p_values(np.array([0.1, 0.15, 0.3]), 400, np.array([2.0, 2, 2]), np.inf, np.array([0.12] * 3),
                        np.array([0.2] * 3))
    assert p[0] == pytest.approx(math.erfc(0.870388 / math.sqrt(2)), abs=1e-6)
    assert p[1] == 1.0  # inside the range: could be in proportion
    assert design.gap_ratio(np.array([0.06, 0.15, 0.3]), np.array([0.12] * 3), np.array([0.2] * 3)) == \
        pytest.approx([0.5, 1.0, 1.5])


def test_holm_steps_down_and_stops_at_the_first_failure():
    # Sorted 0.005 ≤ 0.05/4, 0.01 ≤ 0.05/3, then 0.03 > 0.05/2: stop (0.04 is not rejected though ≤ 0.05).
    assert design.holm(np.array([0.01, 0.04, 0.03, 0.005])).tolist() == [True, False, False, True]
    assert design.holm(np.array([0.04])).tolist() == [True]


def _decided(p: list[float], **columns) -> list[str]:
    table = pd.DataFrame({"flag": "in line", "withheld": False, "_count": 50.0, "_p": p, "_gap": 0.5,
                          "_p_small": 1.0, "_gap_small": 1.0, **columns})
    return reach._decide(table, 5, (0.8, 1.25))["flag"].tolist()


def test_a_flag_needs_holm_and_a_gap_outside_the_band():
    # Four groups, p 0.001, 0.004, 0.02, 0.03: Holm compares them in order with 0.05/4, /3, /2, /1 and rejects
    # all four; the second's gap (1.1) is inside the band, so it is not flagged.
    gaps = [0.5, 1.1, 1.3, 0.5]
    assert _decided([0.001, 0.004, 0.02, 0.03], _gap=gaps) == ["under", "in line", "over", "under"]
    assert _decided([0.001, 0.004, 0.02, 0.06], _gap=gaps) == ["under", "in line", "over", "in line"]
    # 0.03 third in line is over 0.05/2: Holm stops there, and the fourth (0.04) is not rejected either.
    assert _decided([0.001, 0.004, 0.03, 0.04], _gap=gaps) == ["under", "in line", "in line", "in line"]


def test_a_withheld_group_says_only_what_withholding_says():
    base = dict(_gap=[0.5, 0.5, 0.5, 0.5], withheld=[False, True, True, False], _count=[50.0, 2, 7, 50],
                _p_small=[1, 0.001, 0.001, 1], _gap_small=[1, 0.4, 0.4, 1])
    # Row 2 is withheld for its own count (2 < 5) and even 4 heard would be flagged under: 'under'. Row 3 is
    # withheld only to protect another (7 heard): its bound says nothing, so 'withheld', and it takes p = 1.
    assert _decided([0.001, 0.9, 0.9, 0.01], **base) == ["under", "under", WITHHELD, "under"]
    # With the bound not significant the primary one is 'withheld' too.
    assert _decided([0.001, 0.9, 0.9, 0.01], **{**base, "_p_small": [1, 0.5, 0.001, 1]})[1] == WITHHELD


def test_targets_are_goals_not_estimates():
    table = pd.DataFrame({"community": ["A", "B", "C", "D"], "respondents": [3.0, 12, 2, 9], "population": np.nan,
                          "target_min": [10, 10, 3, 10], "flag": "no denominator", "ratio": np.nan,
                          "ratio_low": np.nan, "ratio_high": np.nan, "design_effect": np.nan})
    t = reach._against_targets(table)
    assert t["flag"].tolist() == ["under target", "target met", "under target", "under target"]
    assert t["ratio"].tolist() == pytest.approx([0.3, 1.2, 2 / 3, 0.9]) and t["ratio_low"].isna().all()
    # Withheld at threshold 5: 3 of a target of 10 → 'under target' (any withheld count is under 10); 2 of a
    # target of 3 → 'withheld' (a withheld count could be 3 or 4).
    t = t.assign(withheld=[True, False, True, False], _count=[3.0, 12, 2, 9], _p=1.0, _gap=1.0, _p_small=1.0,
                 _gap_small=1.0)
    assert reach._decide(t, 5, (0.8, 1.25))["flag"].tolist() == ["under target", "target met", WITHHELD,
                                                                   "under target"]


# --- Simulation: representative in expectation, recruited in activities --------------------------------------

CELLS = ["locality", "quintile", "sex", "age_group"]
DIMENSIONS = [("locality",), ("quintile",), ("age_group", "sex"), ("locality", "age_group", "sex"), ("sex",)]


def _population(con: Store) -> pd.DataFrame:
    pop = reach.population_cells(con, 15).groupby(CELLS, as_index=False)["population"].sum()
    return pop[pop["population"] > 0].reset_index(drop=True)


def _ledger(pop: pd.DataFrame, rng: np.random.Generator, plant: pd.Series | None = None, local: int = 60,
            surveys: tuple[int, ...] = (2500, 1500)) -> pd.DataFrame:
    """A year of engagement: `local` activities, each drawing its people from one locality (chosen in proportion
    to residents) with heavy-tailed sizes (median 20, up to 600), and open partnership-wide surveys. `plant`
    marks cells heard at half their rate."""
    weight = pop["population"].to_numpy(float) * np.where(plant, 0.5, 1.0) if plant is not None else \
        pop["population"].to_numpy(float)
    places = pd.Series(weight).groupby(pop["locality"]).sum()
    draws = []
    for k in range(local):
        place = rng.choice(places.index, p=(places / places.sum()).to_numpy())
        within = weight * (pop["locality"] == place).to_numpy()
        size = int(np.clip(rng.lognormal(np.log(20), 1.0), 3, 600))
        draws.append((f"L{k}", False, rng.multinomial(size, within / within.sum())))
    draws += [(f"S{j}", True, rng.multinomial(size, weight / weight.sum())) for j, size in enumerate(surveys)]
    rows = [pop.loc[counts > 0, CELLS].assign(activity_id=name, open_survey=opened, respondents=counts[counts > 0])
            for name, opened, counts in draws]
    cells = pd.concat(rows, ignore_index=True)
    # Each row's people's record keys summed: uniform on the key space (disclosure.py), drawn once per row.
    return cells.assign(ckey=rng.integers(0, KEY_SPACE, len(cells)))


def _flags(pop: pd.DataFrame, cells: pd.DataFrame, dims: tuple[str, ...], limit: int = 5) -> pd.DataFrame:
    """reach's own path from cells to flags, as viewers get them: counts published (perturbed by their cell keys,
    withheld under the threshold), then shares, intervals from the rounded design and flags from those."""
    table, units = reach._groups(cells, pop, dims, limit, exact=False)
    share = table["population"] / table["population"].sum()
    rated = reach.withhold(reach._ratios(table, units, share, limit), "respondents", limit, reach.DERIVED)
    return reach._finish(rated, limit, design.BAND)


def _false_flag_runs(pop: pd.DataFrame, seeds: range, **ledger) -> dict[tuple[str, ...], int]:
    runs = dict.fromkeys(DIMENSIONS, 0)
    for seed in seeds:
        cells = _ledger(pop, np.random.default_rng(seed), **ledger)
        for dims in DIMENSIONS:
            runs[dims] += bool(_flags(pop, cells, dims)["flag"].isin(["under", "over"]).any())
    return runs


def _planted_found(pop: pd.DataFrame, seeds: range, plant: pd.Series, dims: tuple[str, ...], key) -> int:
    found = 0
    for seed in seeds:
        table = _flags(pop, _ledger(pop, np.random.default_rng(seed), plant), dims).set_index(list(dims))
        found += table.loc[key, "flag"] == "under"
    return found


@pytest.mark.slow
def test_representative_clustered_engagement_flags_no_dimension_in_more_than_1_run_in_20(demo):
    pop = _population(demo)
    runs = _false_flag_runs(pop, range(60))
    assert max(runs.values()) <= 3, runs  # 3 of 60 = 1 in 20
    without_surveys = _false_flag_runs(pop, range(100, 140), surveys=())
    assert max(without_surveys.values()) <= 2, without_surveys


@pytest.mark.slow
def test_a_planted_shortfall_of_half_a_share_is_still_flagged(demo):
    pop = _population(demo)
    young_men = ((pop["sex"] == "M") & (pop["age_group"] == "15-34")).to_numpy()
    assert _planted_found(pop, range(200, 230), young_men, ("age_group", "sex"), ("15-34", "M")) >= 29
    deprived = (pop["quintile"] == 1).to_numpy()
    assert _planted_found(pop, range(300, 330), deprived, ("quintile",), 1) >= 23  # 24 of 30 when written


@pytest.mark.slow
def test_the_simulation_holds_on_north_lanarkshire(tmp_path_factory):
    from tests.test_import_scotland import DATA, nl_args
    from analytics.importers.errors import Report
    from analytics.importers.scotland import parse_args, run
    if not DATA.is_dir():
        pytest.skip(f"the published Scottish data are not at {DATA}")
    folder = tmp_path_factory.mktemp("nl-design")
    run(parse_args(nl_args(folder / "pack")), Report(stream=io.StringIO()))
    build(folder / "pack", folder / "store.duckdb")
    pop = _population(Store(folder / "store.duckdb"))
    runs = _false_flag_runs(pop, range(40))
    assert max(runs.values()) <= 2, runs
    young_men = ((pop["sex"] == "M") & (pop["age_group"] == "15-34")).to_numpy()
    assert _planted_found(pop, range(500, 520), young_men, ("age_group", "sex"), ("15-34", "M")) >= 19


@pytest.mark.parametrize("setting", ["flag_ratio_low = 1.2", "flag_ratio_high = 0.9", 'flag_ratio_low = "0.8"',
                                     "flag_ratio_low = 0", "flag_ratio_high = true"])
def test_a_flag_band_that_cannot_be_is_refused(tmp_path, setting):
    from analytics.pack import PackInvalid, load_pack
    from tests.packs import write_tiny_pack
    pack = write_tiny_pack(tmp_path / "pack")
    (pack / "pack.toml").write_text((pack / "pack.toml").read_text() + setting + "\n")
    with pytest.raises(PackInvalid, match="flag_ratio"):
        load_pack(pack)


def test_the_pack_sets_the_band(tmp_path):
    # The tiny pack's Carers (ratio 6.4, p = 0.023) are 'over' with the default band; with 0.1–10 they are
    # 'in line': the gap against the share range's nearer end, 0.5/0.09375 = 5.3, is inside it.
    from tests.conftest import unsuppressed
    from tests.packs import write_tiny_pack
    pack = write_tiny_pack(tmp_path / "pack")
    (pack / "pack.toml").write_text((pack / "pack.toml").read_text() + "flag_ratio_low = 0.1\nflag_ratio_high = 10\n")
    build(pack, tmp_path / "store.duckdb")
    con = unsuppressed(tmp_path / "store.duckdb")
    assert reach.flag_band(con) == (0.1, 10.0)
    assert reach.representation(con, "community").set_index("community").loc["Carers", "flag"] == "in line"


def test_the_page_says_what_an_interval_and_a_flag_mean():
    from analytics import describe
    table = pd.DataFrame({"flag": ["under", "in line", "under target", "withheld"]})
    said = describe.flags({"activities": 80, "open_surveys": 1, "design_effect": 4.0, "wider": 2.0}, table, (0.8, 1.25))
    assert said == ("Respondents came in 80 activities and 1 open partnership-wide survey, whose answers count one by "
                    "one; people who come to the same activity tend to be alike, so the 95% intervals are 2.0 times "
                    "as wide as if everyone had answered on their own. A group is flagged under or over only when "
                    "chance is ruled out across all 3 groups at once (Holm's method, 5%) and its ratio is below 0.8 "
                    "or above 1.25; groups with a target instead of a population estimate are compared with the "
                    "target.")
    alone = describe.flags({"activities": 3, "open_surveys": 0, "design_effect": 1.0, "wider": 1.0}, table, (0.8, 1.25))
    assert alone.startswith("Respondents came in 3 activities; people who come to the same activity tend to be "
                            "alike, which barely widens the 95% intervals.")
