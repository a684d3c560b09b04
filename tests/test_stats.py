"""analytics.stats against hand-worked numbers (arithmetic in the comments), never against itself.

z at 95% = 1.959964 (z² = 3.841459); z at 99.8% = 3.090232 (z² = 9.549534).
Wilson: d = 1 + z²/n; centre = (p + z²/2n)/d; half = z/d · sqrt(p(1-p)/n + z²/4n²); limits = centre ∓ half.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.stats import (
    RakeResult,
    StatsInputError,
    design_effect,
    kish_effective_n,
    normalise_confidence,
    participation_ratio_minmax,
    proportional_similarity,
    rake,
    rate_interval,
    standardised_difference,
    weighted_proportion_interval,
    wilson_interval,
)

TOL = 1e-4

# (successes, trials, confidence, lower, upper)
WILSON_CASES = [
    # n=10, 95%: d = 1 + 3.841459/10 = 1.384146; z²/2n = 0.192073; z²/4n² = 0.00960365
    # 0/10: centre = 0.192073/1.384146 = 0.138766; half = 1.959964/1.384146·sqrt(0.00960365) = 0.138766 -> 0, 0.277533
    (0, 10, 0.95, 0.0, 0.277533),
    # 1/10: centre = (0.1+0.192073)/1.384146 = 0.211013; half = 1.415990·sqrt(0.009+0.00960365) = 0.193137
    (1, 10, 0.95, 0.017876, 0.404150),
    # 10/10: mirror of 0/10 -> 1 - 0.277533 = 0.722467, 1
    (10, 10, 0.95, 0.722467, 1.0),
    # 5/10: centre = 0.5; half = 1.415990·sqrt(0.025+0.00960365) = 0.263407
    (5, 10, 0.95, 0.236593, 0.763407),
    # 57/100: d = 1.0384146; centre = (0.57+0.0192073)/1.0384146 = 0.567410;
    #         half = 1.887453·sqrt(0.002451+0.0000960365) = 0.095257
    (57, 100, 0.95, 0.472154, 0.662667),
    # n=10, 99.8%: d = 1 + 9.549534/10 = 1.954953; z²/2n = 0.477477; z²/4n² = 0.0238738
    # 0/10: centre = 0.477477/1.954953 = 0.244239 = half -> 0, 0.488479
    (0, 10, 99.8, 0.0, 0.488479),
    # 1/10: centre = 0.577477/1.954953 = 0.295392; half = 1.580720·sqrt(0.009+0.0238738) = 0.286602
    (1, 10, 99.8, 0.008789, 0.581994),
    (10, 10, 99.8, 0.511521, 1.0),  # mirror of 0/10
    # 5/10: half = 1.580720·sqrt(0.025+0.0238738) = 0.349456
    (5, 10, 99.8, 0.150544, 0.849456),
    # 57/100: d = 1.0954953; centre = (0.57+0.0477477)/1.0954953 = 0.563898;
    #         half = 2.820850·sqrt(0.002451+0.000238738) = 0.146297
    (57, 100, 0.998, 0.417601, 0.710195),
]


@pytest.mark.parametrize("s, n, conf, lo, hi", WILSON_CASES)
def test_wilson_hand_worked(s, n, conf, lo, hi):
    lower, upper = wilson_interval(s, n, conf)
    assert isinstance(lower, float) and isinstance(upper, float)
    assert lower == pytest.approx(lo, abs=TOL) and upper == pytest.approx(hi, abs=TOL)


def test_wilson_extremes_are_exact():
    assert wilson_interval(0, 7)[0] == 0.0 and wilson_interval(7, 7)[1] == 1.0


def test_wilson_vectorised_shape():
    s = np.array([[0, 1, 5], [10, 5, 1]])
    lower, upper = wilson_interval(s, 10, 0.95)
    assert lower.shape == upper.shape == (2, 3)
    assert lower[0, 1] == pytest.approx(0.017876, abs=TOL) and upper[1, 0] == 1.0


@pytest.mark.parametrize("s, n, words", [
    (-1, 10, "negative"), (3, -1, "negative"), (11, 10, "exceed"), (0, 0, "zero trials"), ([1, 2], [5, 0], "zero trials"),
])
def test_wilson_refuses(s, n, words):
    with pytest.raises(StatsInputError, match=words):
        wilson_interval(s, n)


# Rates. Exact Poisson for O < 10: lower = χ²(α/2, 2O)/2, upper = χ²(1-α/2, 2O+2)/2 (table values).
# Byar for O >= 10: lower = O(1 - 1/9O - z/3√O)³, upper = (O+1)(1 - 1/9(O+1) + z/3√(O+1))³.
RATE_CASES = [
    # O=0: upper = χ²(0.975, 2)/2 = -ln(0.025) = 3.688879; 99.8%: -ln(0.001) = 6.907755
    (0, 0.95, 0.0, 3.688879), (0, 0.998, 0.0, 6.907755),
    # O=1: lower = χ²(0.025, 2)/2 = -ln(0.975) = 0.025318; upper = χ²(0.975, 4)/2 = 11.143287/2 = 5.571643
    (1, 0.95, 0.025318, 5.571643),
    # 99.8%: lower = -ln(0.999) = 0.0010005; upper = χ²(0.999, 4)/2 = 18.466827/2 = 9.233413
    (1, 0.998, 0.0010005, 9.233413),
    # O=9 (still exact): χ²(0.025, 18) = 8.230746 -> 4.115373; χ²(0.975, 20) = 34.169607 -> 17.084803
    (9, 0.95, 4.115373, 17.084803),
    # 99.8%: χ²(0.001, 18) = 4.904849 -> 2.452424; χ²(0.999, 20) = 45.314747 -> 22.657373
    (9, 0.998, 2.452424, 22.657373),
    # O=10 (Byar), 95%: 1 - 1/90 - 1.959964/(3·3.162278) = 0.782291, cubed 0.478745 · 10 = 4.787450;
    #   1 - 1/99 + 1.959964/(3·3.316625) = 1.186883, cubed 1.671951 · 11 = 18.391459
    (10, 0.95, 4.787450, 18.391459),
    # 99.8%: 1 - 0.011111 - 3.090232/9.486833 = 0.663150 -> ³ 0.291632 -> 2.916319;
    #   1 - 0.010101 + 3.090232/9.949874 = 1.300479 -> ³ 2.199429 -> 24.193723
    (10, 0.998, 2.916319, 24.193723),
    # O=100, 95%: 1 - 1/900 - 1.959964/30 = 0.933557 -> ³ 0.813621 -> 81.362105;
    #   1 - 1/909 + 1.959964/(3·10.049876) = 1.063908 -> ³ 1.204237 -> 121.627938
    (100, 0.95, 81.362105, 121.627938),
    # 99.8%: 1 - 0.001111 - 3.090232/30 = 0.895881 -> ³ 0.719037 -> 71.903694;
    #   1 - 0.0011001 + 3.090232/30.149627 = 1.101396 -> ³ 1.336075 -> 134.943618
    (100, 0.998, 71.903694, 134.943618),
]


@pytest.mark.parametrize("o, conf, lo, hi", RATE_CASES)
def test_rate_interval_hand_worked(o, conf, lo, hi):
    lower, upper = rate_interval(o, 1, confidence=conf)
    assert lower == pytest.approx(lo, abs=TOL) and upper == pytest.approx(hi, abs=TOL)
    # Per 1,000 of a population of 1,000: the same numbers.
    lower, upper = rate_interval(o, 1000, multiplier=1000, confidence=conf)
    assert lower == pytest.approx(lo, abs=TOL) and upper == pytest.approx(hi, abs=TOL)


def test_rate_interval_vectorised_switch_per_element():
    lower, upper = rate_interval(np.array([0, 1, 9, 10, 100]), np.array([1, 1, 1, 1, 1]))
    assert lower.shape == (5,)
    assert np.allclose(lower, [0, 0.025318, 4.115373, 4.787450, 81.362105], atol=TOL)
    assert np.allclose(upper, [3.688879, 5.571643, 17.084803, 18.391459, 121.627938], atol=TOL)
    # Rate per 100,000 for 100 events in 50,000 people: 81.362105 · 2 = 162.72421
    assert rate_interval(100, 50_000, 100_000)[0] == pytest.approx(162.72421, abs=TOL)


@pytest.mark.parametrize("o, d, words", [(-1, 10, "negative"), (3, 0, "denominator"), (3, -5, "denominator")])
def test_rate_interval_refuses(o, d, words):
    with pytest.raises(StatsInputError, match=words):
        rate_interval(o, d)


def test_normalise_confidence():
    assert normalise_confidence(95) == normalise_confidence(0.95) == pytest.approx(0.95)
    assert normalise_confidence(99.8) == pytest.approx(0.998) and normalise_confidence(0.998) == 0.998
    assert normalise_confidence(90) == pytest.approx(0.9)
    # The percent and fraction forms give the same interval.
    assert wilson_interval(5, 10, 99.8) == pytest.approx(wilson_interval(5, 10, 0.998))


@pytest.mark.parametrize("bad", [0.85, 85, 101, 100, 1.0, 0.5, -95, "high"])
def test_normalise_confidence_refuses(bad):
    with pytest.raises(StatsInputError, match="confidence"):
        normalise_confidence(bad)


def test_proportional_similarity():
    # min(0.5,0.6) + min(0.3,0.4) + min(0.2,0) = 0.5 + 0.3 + 0 = 0.8
    assert proportional_similarity([0.5, 0.3, 0.2], [0.6, 0.4, 0.0]) == pytest.approx(0.8)
    # Counts are normalised: [50,30,20] -> [0.5,0.3,0.2]; [6,4,0] -> [0.6,0.4,0]
    assert proportional_similarity([50, 30, 20], [6, 4, 0]) == pytest.approx(0.8)
    assert proportional_similarity([1, 1], [1, 1]) == pytest.approx(1.0)
    with pytest.raises(StatsInputError, match="one value per group"):
        proportional_similarity([0.5, 0.5], [1.0])


def test_participation_ratio_minmax():
    # rates 10/100 = 0.1, 30/200 = 0.15, 20/100 = 0.2; group 4 has no population -> ignored; 0.1/0.2 = 0.5
    assert participation_ratio_minmax([10, 30, 20, 5], [100, 200, 100, 0]) == pytest.approx(0.5)
    assert participation_ratio_minmax([10, 20], [100, 200]) == pytest.approx(1.0)
    assert participation_ratio_minmax([0, 20], [100, 200]) == 0.0
    with pytest.raises(StatsInputError, match="zero population"):
        participation_ratio_minmax([1, 2], [0, 0])


def test_kish_and_design_effect():
    # (1+1+2+2)² / (1+1+4+4) = 36/10 = 3.6; deff = 4/3.6 = 1.111111
    assert kish_effective_n([1, 1, 2, 2]) == pytest.approx(3.6)
    assert design_effect([1, 1, 2, 2]) == pytest.approx(1.111111, abs=TOL)
    assert kish_effective_n(np.ones(7)) == pytest.approx(7.0) and design_effect(np.ones(7)) == pytest.approx(1.0)
    with pytest.raises(StatsInputError, match="weights"):
        kish_effective_n([1, -1])


def test_weighted_proportion_interval():
    x = np.array([1] * 57 + [0] * 43)
    p, lo, hi = weighted_proportion_interval(x, np.ones(100))
    assert p == pytest.approx(0.57) and (lo, hi) == pytest.approx(wilson_interval(57, 100), abs=1e-12)
    assert (lo, hi) == pytest.approx((0.472154, 0.662667), abs=TOL)
    # Weights [1,1,2,2], indicator [1,0,1,0]: p = 3/6 = 0.5, n_eff = 3.6 -> Wilson(1.8, 3.6):
    #   d = 1 + 3.841459/3.6 = 2.067072; centre = 0.5; half = 1.959964/2.067072·sqrt(0.25/3.6 + 3.841459/51.84)
    #   = 0.948186·sqrt(0.069444+0.074102) = 0.948186·0.378875 = 0.359244
    p, lo, hi = weighted_proportion_interval([1, 0, 1, 0], [1, 1, 2, 2])
    assert p == pytest.approx(0.5) and lo == pytest.approx(0.140756, abs=TOL) and hi == pytest.approx(0.859244, abs=TOL)
    assert weighted_proportion_interval([1, 1, 1], [0.3, 0.3, 0.4])[2] == 1.0
    with pytest.raises(StatsInputError, match="0/1"):
        weighted_proportion_interval([2, 0], [1, 1])


def test_standardised_difference():
    # (0.6-0.5)/sqrt((0.24+0.25)/2) = 0.1/0.494975 = 0.202031
    assert standardised_difference(0.6, 0.5) == pytest.approx(0.202031, abs=TOL)
    d = standardised_difference(np.array([0.6, 0.0, 1.0, 0.2]), np.array([0.5, 0.0, 1.0, 0.4]))
    # last: (0.2-0.4)/sqrt((0.16+0.24)/2) = -0.2/0.447214 = -0.447214
    assert d.shape == (4,) and np.allclose(d, [0.202031, 0.0, 0.0, -0.447214], atol=TOL)
    with pytest.raises(StatsInputError, match="between 0 and 1"):
        standardised_difference(60, 50)


# Rake fixture: 8 rows. Cells (rows): F-young 3, F-old 1, M-young 2, M-old 2.
# Targets: sex F 50, M 50; age young 40, old 60 (total 100).
SAMPLE = pd.DataFrame({"sex": ["F"] * 4 + ["M"] * 4,
                       "age": ["young", "young", "young", "old", "young", "young", "old", "old"]})
MARGINS = {"sex": pd.Series({"F": 50.0, "M": 50.0}), "age": pd.Series({"young": 40.0, "old": 60.0})}


def _cell_weights(w):
    return {k: w[i] for k, i in (("Fy", 0), ("Fo", 3), ("My", 4), ("Mo", 6))}


def test_rake_two_iterations_by_hand():
    # Iteration 1. Sex: F total 4 -> ×50/4 = 12.5; M ×12.5: every row 12.5.
    #   Age: young = 3·12.5 + 2·12.5 = 62.5 -> ×40/62.5 = 0.64; old = 37.5 -> ×60/37.5 = 1.6
    #   Rows: Fy 8, Fo 20, My 8, Mo 20. F total = 24+20 = 44 -> share error |0.44-0.5| = 0.06.
    # Iteration 2. Sex: F ×50/44, M ×50/56: Fy 100/11, Fo 250/11, My 50/7, Mo 125/7.
    #   Age: young = 300/11 + 100/7 = 3200/77 -> ×40·77/3200 = 0.9625; old = 4500/77 -> ×60·77/4500 = 77/75
    #   Rows: Fy 100/11·0.9625 = 8.75, Fo 250/11·77/75 = 23.333333, My 50/7·0.9625 = 6.875, Mo 125/7·77/75 = 18.333333
    #   F total = 26.25 + 23.333333 = 49.583333 -> error 0.416667/100 = 0.0041667
    res = rake(SAMPLE, MARGINS, max_iter=2)
    assert isinstance(res, RakeResult) and res.iterations == 2 and not res.converged
    cells = _cell_weights(res.weights)
    assert cells == pytest.approx({"Fy": 8.75, "Fo": 70 / 3, "My": 6.875, "Mo": 55 / 3}, abs=1e-9)
    assert res.history == pytest.approx([0.06, 0.0041667], abs=1e-6)
    assert res.max_margin_error == pytest.approx(0.0041667, abs=1e-6)


def test_rake_converges_to_closed_form():
    # IPF keeps the seed's odds ratio (3·2)/(1·2) = 3. With Fy cell total x: Fo = 50-x, My = 40-x, Mo = 10+x;
    #   x(10+x) = 3(50-x)(40-x) -> x² - 140x + 3000 = 0 -> x = (140 - sqrt(7600))/2 = 26.411011
    #   Row weights: Fy x/3 = 8.803670, Fo 23.588989, My (40-x)/2 = 6.794495, Mo (10+x)/2 = 18.205505
    res = rake(SAMPLE, MARGINS)
    assert res.converged and res.max_margin_error <= 1e-8 and res.iterations == len(res.history)
    assert _cell_weights(res.weights) == pytest.approx(
        {"Fy": 8.803670, "Fo": 23.588989, "My": 6.794495, "Mo": 18.205505}, abs=1e-5)
    w = pd.Series(res.weights)
    for var, target in MARGINS.items():
        got = w.groupby(SAMPLE[var].to_numpy()).sum()
        assert np.allclose(got[target.index].to_numpy(), target.to_numpy(), atol=1e-6)


def test_rake_shares_scaled_to_weighted_total_and_base_weights():
    shares = {"sex": pd.Series({"F": 0.5, "M": 0.5}), "age": pd.Series({"young": 0.4, "old": 0.6})}
    res = rake(SAMPLE, shares)
    # Same solution as above scaled from 100 to the sample's 8 rows: Fy 8.803670·0.08 = 0.704294
    assert res.weights.sum() == pytest.approx(8.0) and res.weights[0] == pytest.approx(0.704294, abs=1e-5)
    # Base weights of 2 double the weighted total (16) but not the shape of the answer.
    res2 = rake(SAMPLE.assign(w=2.0), shares, weight="w")
    assert np.allclose(res2.weights, 2 * res.weights, atol=1e-8)


def test_rake_trimming():
    # Untrimmed, F-old's single row gets 23.588989 > 1.8 × mean 12.5 = 22.5, so a (0.4, 1.8) trim binds.
    # A feasible answer exists with Fo capped at 22.5: Fy = (50-22.5)/3 = 9.166667, My = (22.5-10)/2 = 6.25
    # (>= floor 0.4·12.5 = 5), Mo = (60-22.5)/2 = 18.75; trimming within iterations finds it.
    res = rake(SAMPLE, MARGINS, trim=(0.4, 1.8), max_iter=500)
    assert res.converged and res.max_margin_error <= 1e-8
    assert _cell_weights(res.weights) == pytest.approx({"Fy": 27.5 / 3, "Fo": 22.5, "My": 6.25, "Mo": 18.75}, abs=1e-5)
    assert res.weights.max() <= 1.8 * res.weights.mean() * (1 + 1e-6)
    # Caps of exactly the mean force equal weights, which cannot meet these margins: reported, not hidden.
    res = rake(SAMPLE, MARGINS, trim=(1.0, 1.0), max_iter=5)
    # Equal weights give unweighted shares: sex F 4/8 = 0.5 (error 0); age young 5/8 vs 0.4 -> 0.225.
    assert not res.converged and res.iterations == 5 and res.max_margin_error == pytest.approx(0.225)


CELLS = pd.DataFrame({"sex": ["F", "F", "M", "M"], "age": ["young", "old", "young", "old"], "n": [3, 1, 2, 2]})


def test_rake_cells_with_counts_give_each_respondent_its_row_weight():
    # SAMPLE's 8 rows as 4 cells: the same per-respondent answers as above, including the trimmed one, whose
    # cap is 1.8 × the mean over respondents (12.5), not the mean of the 4 cells' weights (14.35 untrimmed).
    trimmed = rake(CELLS, MARGINS, trim=(0.4, 1.8), max_iter=500, counts="n")
    assert trimmed.converged
    assert trimmed.weights == pytest.approx([27.5 / 3, 22.5, 6.25, 18.75], abs=1e-5)
    shares = rake(CELLS, {"sex": pd.Series({"F": 0.5, "M": 0.5}), "age": pd.Series({"young": 0.4, "old": 0.6})},
                  counts="n")
    assert (shares.weights * CELLS["n"]).sum() == pytest.approx(8.0)  # shares scaled to the 8 respondents
    assert shares.weights[0] == pytest.approx(0.704294, abs=1e-5)
    with pytest.raises(StatsInputError, match="counts column 'n'"):
        rake(CELLS.assign(n=0), MARGINS, counts="n")


def test_rake_refuses():
    with pytest.raises(StatsInputError, match="disagree on the total"):
        rake(SAMPLE, {"sex": pd.Series({"F": 50.0, "M": 50.0}), "age": pd.Series({"young": 40.0, "old": 70.0})})
    with pytest.raises(StatsInputError, match=r"'age'.*'old' has no margin entry"):
        rake(SAMPLE, {"age": pd.Series({"young": 40.0})})
    with pytest.raises(StatsInputError, match=r"'age'.*'middle' has no sample rows"):
        rake(SAMPLE, {"age": pd.Series({"young": 40.0, "middle": 10.0, "old": 50.0})})
    with pytest.raises(StatsInputError, match="no column"):
        rake(SAMPLE, {"ethnicity": pd.Series({"a": 1.0})})
    with pytest.raises(StatsInputError, match="trim"):
        rake(SAMPLE, MARGINS, trim=(2.0, 3.0))
