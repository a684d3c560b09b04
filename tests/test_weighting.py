"""Survey weighting end to end: raking on the tiny pack reproduces the population margins, with hand-worked
weights, support and effective sample size; suppression at threshold 5; the demonstration pack; the page."""
from __future__ import annotations

import numpy as np
import pytest

from analytics import stats, weighting
from tests.apptest import run, small_counts

# Tiny pack respondents (area → locality; age band → age group): R1 A1 F 65-69 (North, 65-84), R2 A1 F 70-74
# (North, 65-84), R3 A2 M 20-24 (North, 15-34), R4 A3 F 65-69 (South, 65-84), R5 no area, sex X, no age (left
# out), R6 A4 sex blank 40-44 (South, 35-64), R7 A1 F 85-89 (North, 85+), R8 A2 M 85-89 (North, 85+).
# Residents 15+: North 640, South 640; age groups 320 / 480 / 320 / 160 (shares .25, .375, .25, .125).
# Raking to locality and age group has one solution, since each locality × age cell is pinned by the margins:
# R6 alone is 35-64 → .375; South = .5 → R4 = .125; R3 alone is 15-34 → .25; 65-84 = .25 → R1 + R2 = .125,
# equal within their cell → .0625 each; 85+ = .125 → R7 = R8 = .0625. North = .0625·4 + .25 = .5 as required.
SHARES = {"R1": 1 / 16, "R2": 1 / 16, "R3": 4 / 16, "R4": 2 / 16, "R6": 6 / 16, "R7": 1 / 16, "R8": 1 / 16}


@pytest.fixture(scope="module")
def raked(tiny) -> weighting.Weighting:
    return weighting.weight_responses(tiny, margins=("locality", "age_group"), trim=0)


def test_weighted_margins_equal_population_margins(raked):
    m = raked.margins
    assert np.abs(m["weighted_share"] - m["population_share"]).max() < 1e-6
    assert m.set_index("category")["population_share"].to_dict() == pytest.approx(
        {"North": 0.5, "South": 0.5, "15-34": 0.25, "35-64": 0.375, "65-84": 0.25, "85+": 0.125})
    assert m.set_index("category")["respondents"].to_dict() == {"North": 5, "South": 2, "15-34": 1, "35-64": 1,
                                                                 "65-84": 3, "85+": 2}
    # North before weighting: 5/7 against .5 → (5/7 − .5) / √((5/7·2/7 + .5·.5)/2) = .2142857 / .4764880 = .44972.
    assert m.set_index("category").loc["North", "std_diff_before"] == pytest.approx(0.44972, abs=1e-5)
    assert m["std_diff_after"].abs().max() < 1e-6


def test_summary_hand_worked(raked):
    s = raked.summary
    assert (s["respondents"], s["excluded"]) == (7, 1)  # R5 has no area (and sex X, no age)
    assert s["converged"] == 1 and s["max_margin_error"] <= 1e-8
    # Weights in sixteenths: 1, 1, 4, 2, 6, 1, 1 → Σ = 16, Σ² = 60: Kish n_eff = 16²/60 = 4.2667; 7 / 4.2667 = 1.640625.
    assert s["effective_n"] == pytest.approx(256 / 60, rel=1e-6)
    assert s["design_effect"] == pytest.approx(1.640625, rel=1e-6)
    # Scaled to mean 1 (× 7/16): from 0.4375 to 2.625, ratio 6; CV = √(mean w² − 1) = √(.640625) = 0.80039.
    assert (s["weight_min"], s["weight_max"]) == pytest.approx((0.4375, 2.625), rel=1e-6)
    assert s["weight_ratio"] == pytest.approx(6, rel=1e-6)
    assert s["weight_cv"] == pytest.approx(0.800391, rel=1e-5)


def test_support_before_and_after_weighting_hand_worked(raked):
    t = raked.support.set_index("priority")
    # P1: R1, R2, R6 → 3/7 unweighted; weighted 1/16 + 1/16 + 6/16 = 50%.
    # P2: R1, R4, R7, R8 → 4/7; weighted 1/16 + 2/16 + 1/16 + 1/16 = 31.25%.
    assert t["supporters"].to_dict() == {"P1": 3, "P2": 4}
    assert t["unweighted"].tolist() == pytest.approx([300 / 7, 400 / 7])
    assert t["weighted"].tolist() == pytest.approx([50, 31.25], abs=1e-5)
    assert t.loc["P2", "change"] == pytest.approx(31.25 - 400 / 7, abs=1e-5)
    # P1's interval rests on the linearised variance (weights in sixteenths, Σw = 16, p = .5):
    #   w(y − p) = R1 .5, R2 .5, R6 3 (supporters); R3 −2, R4 −1, R7 −.5, R8 −.5
    #   Σ squares = .25 + .25 + 9 + 4 + 1 + .25 + .25 = 15; V = 7/6 · 15/16² = .0683594; n_eff = .25/V = 128/35
    #   = 3.657143 (Kish's: 4.2667). Korn–Graubard df = 7 − 1 = 6: t(6, .975) = 2.446912, (z/t)² = .6415929
    #   → n_eff 2.3463968. Wilson at p = .5: z²/n = 1.6371736, d = 2.6371736, centre .5, half-width
    #   z/d · √(.25/n + z²/4n²) = .7432063 · √(.1065463 + .1744349) = .7432063 · .5300766 = .3939563
    #   → 10.6044% to 89.3956%.
    assert (t.loc["P1", "weighted_low"], t.loc["P1", "weighted_high"]) == pytest.approx((10.6044, 89.3956), abs=1e-3)
    low, high = stats.wilson_interval(3, 7)
    assert (t.loc["P1", "unweighted_low"], t.loc["P1", "unweighted_high"]) == pytest.approx((100 * low, 100 * high))


def test_margins_that_leave_a_category_empty_say_what_to_do(tiny):
    with pytest.raises(weighting.WeightingInputError, match="broader margins"):
        weighting.weight_responses(tiny)  # five-year bands × sex: most cells have no respondent in the tiny pack
    with pytest.raises(weighting.WeightingInputError, match="unknown margin"):
        weighting.weight_responses(tiny, margins=("religion",))
    with pytest.raises(weighting.WeightingInputError, match="too few to weight"):
        weighting.weight_responses(tiny, margins=("locality",), method="interview")


def test_respondents_missing_a_raking_variable_are_left_out(tiny):
    # Reach's one base whatever the margins: R5 (no area, sex X, no age) is left out, with sex a margin or not.
    assert weighting.weight_responses(tiny, margins=("locality", "sex"), trim=0).summary["excluded"] == 1
    assert weighting.weight_responses(tiny, margins=("locality",), trim=0).summary["excluded"] == 1


def test_weighting_rakes_published_cells_only(tiny_suppressed, demo):
    # At threshold 5 every weighting cell of the tiny pack holds one or two people, published as 0 or 5; with the
    # tiny pack's key all are published as 0, so there is no one to weight: the error says fewer than 5 (a count
    # of the published cells), never how many there are.
    with pytest.raises(weighting.WeightingInputError, match="Fewer than 5 respondents matching these filters"):
        weighting.weight_responses(tiny_suppressed, margins=("locality", "age_group"), trim=0)
    # On the demo, each margin's categories add up to the respondents weighted (sums of the same published
    # cells), which differ from the true count by the cells' perturbation only.
    w, exact = weighting.weight_responses(demo), weighting.weight_responses(demo, exact=True)
    for _, margin in w.margins.groupby("margin"):
        assert margin["respondents"].sum() == w.summary["respondents"]
    assert w.summary["respondents"] != exact.summary["respondents"]
    assert abs(w.summary["respondents"] - exact.summary["respondents"]) < 0.01 * exact.summary["respondents"]
    assert (w.margins["respondents"].dropna() >= 5).all()


def test_demo_weighting_converges_and_trimming_caps_the_weights(demo):
    # Raking itself, on the true counts (exact=True, an editor's view): perturbation is tested elsewhere.
    w = weighting.weight_responses(demo, exact=True)  # age band × sex, locality, quintile; trimmed at 5× the mean
    assert w.summary["converged"] == 1 and w.summary["iterations"] < 100
    assert np.abs(w.margins["weighted_share"] - w.margins["population_share"]).max() < 1e-6
    assert w.summary["effective_n"] < w.summary["respondents"]
    assert len(w.support) == 7 and not w.support["withheld"].any()
    assert (w.support["weighted_high"] - w.support["weighted_low"]
            > w.support["unweighted_high"] - w.support["unweighted_low"]).all()  # fewer effective respondents
    # The untrimmed weights run from 0.40 to 4.82 times the mean, inside the 5× cap: a cap that does not bind at
    # the answer leaves it exactly as it was (clipping against a moving mean during the iterations did not).
    untrimmed = weighting.weight_responses(demo, trim=0, exact=True)
    assert untrimmed.summary["weight_max"] < 5 and untrimmed.summary["weight_min"] > 0.2
    assert w.summary["effective_n"] == pytest.approx(untrimmed.summary["effective_n"], rel=1e-12)
    assert w.support["weighted"].to_numpy() == pytest.approx(untrimmed.support["weighted"].to_numpy(), rel=1e-9)
    # A 2× cap binds at both ends: the weights returned run exactly from half to twice their own mean (before,
    # 2.13 times it), and since capped weights cannot meet every margin, the summary and its sentence say so.
    capped = weighting.weight_responses(demo, trim=2, exact=True)
    assert (capped.summary["weight_min"], capped.summary["weight_max"]) == pytest.approx((0.5, 2.0), rel=1e-9)
    assert capped.summary["converged"] == 0 and capped.summary["max_margin_error"] > 1e-3
    said = weighting.describe(capped)
    assert said.startswith("Weights capped at 1/2 to 2 times the average cannot match every margin")
    assert f"up to {100 * capped.summary['max_margin_error']:.1f} percentage points" in said


def test_locality_filter_weights_to_that_locality(demo):
    w = weighting.weight_responses(demo, margins=("age_group+sex", "quintile"), locality="Westhaven")
    residents = w.margins[w.margins["margin"] == "Deprivation quintile"]["population"].sum()
    assert residents == pytest.approx(w.margins[w.margins["margin"] == "Age group × sex"]["population"].sum())
    assert residents < 110_000  # Westhaven's residents aged 15+, not the partnership's 552,000


def test_page_runs_and_changes_margins_on_the_demo(demo_env):
    at = run("pages/6_Survey_weighting.py")
    assert not at.exception, [e.message for e in at.exception]
    # Published: the sum of the published weighting cells, and those left out as one published count.
    assert [m.value for m in at.metric][:2] == ["10,902", "1,565"]
    at.radio(key="filter_age_margin").set_value("age_group+sex").run()
    at.selectbox(key="filter_trim").set_value(3).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not small_counts(at)
