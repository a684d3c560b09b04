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
    linearised_effective_n,
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
    # The same four respondents as two cells of two: sums run over respondents, so 3.6 and 4/3.6 again.
    assert kish_effective_n([1, 2], counts=[2, 2]) == pytest.approx(3.6)
    assert design_effect([1, 2], counts=[2, 2]) == pytest.approx(1.111111, abs=TOL)
    with pytest.raises(StatsInputError, match="weights"):
        kish_effective_n([1, -1])
    with pytest.raises(StatsInputError, match="counts"):
        kish_effective_n([1, 2], counts=[1])


def test_weighted_proportion_interval_equal_weights():
    # Equal weights: V = n/(n-1) · Σ(y - p)²/n² = p(1-p)/(n-1), so n_eff = n - 1 = 99 (not Kish's 100).
    #   Wilson(p = .57, n = 99): z²/n = .0388026, d = 1.0388026, centre = (.57 + .0194013)/d = .5673853,
    #   half = 1.8867530 · sqrt(.2451/99 + 3.841459/39204) = 1.8867530 · .0507321 = .0957189 -> .471666, .663104
    x = np.array([1] * 57 + [0] * 43)
    p, lo, hi = weighted_proportion_interval(x, np.ones(100))
    assert p == pytest.approx(0.57) and (lo, hi) == pytest.approx((0.471666, 0.663104), abs=TOL)
    assert linearised_effective_n(x, np.ones(100)) == pytest.approx(99)


# Five respondents: weights 2, 2, 1, 1, 4; the first two say yes. As cells: (yes, weight 2) × 2, (no, 1) × 2,
# (no, 4) × 1.
#   p = (2 + 2)/10 = .4.  w(y - p): 2·.6 = 1.2, 1.2, 1·(-.4) = -.4, -.4, 4·(-.4) = -1.6
#   Σ squares = 1.44 + 1.44 + .16 + .16 + 2.56 = 5.76;  V = 5/4 · 5.76/10² = .072
#   n_eff = p(1-p)/V = .24/.072 = 3.333333 (Kish's would be 10²/26 = 3.846154)
YES, WEIGHTS = [1, 1, 0, 0, 0], [2, 2, 1, 1, 4]


def test_linearised_interval_hand_worked():
    assert linearised_effective_n(YES, WEIGHTS) == pytest.approx(10 / 3)
    # Wilson(p = .4, n = 3.333333): z²/n = 1.1524376, d = 2.1524376, centre = (.4 + .5762188)/d = .4535410,
    #   half = z/d · sqrt(.24/n + z²/4n²) = .9105788 · sqrt(.072 + .0864328) = .9105788 · .3980362 = .3624433
    #   -> .091098 to .815984
    expected = (0.4, 0.091098, 0.815984)
    assert weighted_proportion_interval(YES, WEIGHTS) == pytest.approx(expected, abs=TOL)
    # The same respondents as cells with counts: the same figures, without spelling each respondent out.
    assert weighted_proportion_interval([1, 0, 0], [2, 1, 4], counts=[2, 2, 1]) == pytest.approx(expected, abs=TOL)
    assert linearised_effective_n([1, 0, 0], [2, 1, 4], counts=[2, 2, 1]) == pytest.approx(10 / 3)


def test_linearised_interval_degrees_of_freedom_and_extremes():
    # Korn-Graubard df adjustment, df = 5 - 1 = 4: t(4, .975) = 2.776445, (z/t)² = (1.959964/2.776445)² = .4983311
    #   n_eff = 3.333333 · .4983311 = 1.6611037; Wilson: z²/n = 2.3125942, d = 3.3125942,
    #   centre = (.4 + 1.1562971)/d = .4698122, half = .5916704 · sqrt(.1444823 + .3480509) = .5916704 · .7018070
    #   = .4152385 -> .054574 to .885051
    assert weighted_proportion_interval(YES, WEIGHTS, df=4) == pytest.approx((0.4, 0.054574, 0.885051), abs=TOL)
    # Nobody says yes: V = 0, so Kish's n_eff = 10²/26 = 3.846154; Wilson(0, n) upper = (z²/n)/(1 + z²/n)
    #   = .9987793/1.9987793 = .499695.
    assert weighted_proportion_interval([0] * 5, WEIGHTS) == pytest.approx((0.0, 0.0, 0.499695), abs=TOL)
    assert weighted_proportion_interval([1, 1, 1], [0.3, 0.3, 0.4])[2] == 1.0
    with pytest.raises(StatsInputError, match="0/1"):
        weighted_proportion_interval([2, 0], [1, 1])
    with pytest.raises(StatsInputError, match="degrees of freedom"):
        weighted_proportion_interval(YES, WEIGHTS, df=0)


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
    # (>= floor 0.4·12.5 = 5), Mo = (60-22.5)/2 = 18.75.
    res = rake(SAMPLE, MARGINS, trim=(0.4, 1.8), max_iter=500)
    assert res.converged and res.max_margin_error <= 1e-8 and res.reference_mean == 12.5
    assert _cell_weights(res.weights) == pytest.approx({"Fy": 27.5 / 3, "Fo": 22.5, "My": 6.25, "Mo": 18.75}, abs=1e-5)
    # Caps of exactly the mean force equal weights, which cannot meet these margins: reported, not hidden, and
    # raking stops at the second iteration, when the weights have stopped changing.
    res = rake(SAMPLE, MARGINS, trim=(1.0, 1.0), max_iter=5)
    # Equal weights give unweighted shares: sex F 4/8 = 0.5 (error 0); age young 5/8 vs 0.4 -> 0.225.
    assert not res.converged and res.iterations == 2 and res.max_margin_error == pytest.approx(0.225)
    assert np.all(res.weights == 12.5)


# Six cells (sex × age a/b/c) with respondents F 1, 2, 1 and M 3, 1, 3; targets F 7, M 4 and a 4, b 5, c 2. The
# total is 11 residents for 11 respondents, so the reference mean m is 1 and a (0, 2) cap is a weight of 2.
WIDE = pd.DataFrame({"sex": ["F"] * 3 + ["M"] * 3, "age": ["a", "b", "c"] * 2, "n": [1, 2, 1, 3, 1, 3]})
WIDE_MARGINS = {"sex": pd.Series({"F": 7.0, "M": 4.0}), "age": pd.Series({"a": 4.0, "b": 5.0, "c": 2.0})}


def test_rake_cap_binds_hand_worked():
    # Untrimmed, F-b's weight is 2.1, over the cap. Capped raking's answer is clip(sex factor × age factor):
    # F-b on the cap at 2, and the free cells keep one a : c ratio r for both sexes (Fa/Fc = Ma/Mc = r).
    #   b: 2·2 + 1·Mb = 5 -> Mb = 1.   M: 3·Ma + 1 + 3·Mc = 4 -> Ma + Mc = 1.   F: Fa + 2·2 + Fc = 7 -> Fa + Fc = 3.
    #   So Fa = 3r/(1+r), Ma = r/(1+r), and a: Fa + 3·Ma = 6r/(1+r) = 4 -> r = 2:
    #   Fa = 2, Fc = 1, Ma = 2/3, Mc = 1/3 (c: 1 + 3·1/3 = 2). F-b unclipped is Mb · Fa/Ma = 1 · 3 = 3 >= 2, so
    #   it rightly sits on the cap. Clipping against the moving mean and raking the clipped weights (the old way)
    #   settles on other weights within the cap instead (Fa 1.9966, Fc 1.0034).
    assert rake(WIDE, WIDE_MARGINS, counts="n").weights[1] == pytest.approx(2.1, abs=1e-6)
    res = rake(WIDE, WIDE_MARGINS, trim=(0.0, 2.0), counts="n")
    assert res.converged and res.reference_mean == 1.0
    assert res.weights == pytest.approx([2, 2, 1, 2 / 3, 1, 1 / 3], abs=1e-6)


def test_rake_floor_binds_hand_worked():
    # Respondents F 3, 3, 3 and M 3, 1, 1; targets F 11, M 3; a 4, b 5, c 5 (m = 14/14 = 1). Untrimmed M-a is
    # 0.4774, under a (0.5, 2) floor of 0.5. With M-a on the floor:
    #   a: 3·Fa + 3·0.5 = 4 -> Fa = 5/6.  b and c are alike (same respondents, same targets): Fb = Fc, Mb = Mc.
    #   M: 1.5 + Mb + Mc = 3 -> Mb = Mc = 0.75.  b: 3·Fb + 0.75 = 5 -> Fb = Fc = 17/12.
    #   F: 3·(5/6 + 17/12 + 17/12) = 3 · 44/12 = 11. M-a unclipped: Fa · Mb/Fb = 5/6 · 0.75 · 12/17 = 15/34 <= 0.5.
    # The old way settles at Fa 0.8309, M-a 0.5025.
    cells = WIDE.assign(n=[3, 3, 3, 3, 1, 1])
    margins = {"sex": pd.Series({"F": 11.0, "M": 3.0}), "age": pd.Series({"a": 4.0, "b": 5.0, "c": 5.0})}
    assert rake(cells, margins, counts="n").weights[3] == pytest.approx(0.477412, abs=1e-6)
    res = rake(cells, margins, trim=(0.5, 2.0), counts="n")
    assert res.converged
    assert res.weights == pytest.approx([5 / 6, 17 / 12, 17 / 12, 0.5, 0.75, 0.75], abs=1e-6)


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


def test_rake_cap_and_margins_conflict_hand_worked():
    # SAMPLE's cells with a (0.5, 1.5) cap about m = 100/8 = 12.5: every weight within [6.25, 18.75]. The old
    # respondents can carry at most 18.75 + 2·18.75 = 56.25 of the 60 old residents, so no capped weights meet
    # the age margin. Both old cells stay on the cap while sex and the total are met:
    #   F: 3·Fy + 18.75 = 50 -> Fy = 10.416667;  M: 2·My + 2·18.75 = 50 -> My = 6.25 (on the floor);
    #   total 31.25 + 18.75 + 12.5 + 37.5 = 100, so the weights' own mean is m and the cap holds against it too.
    #   Young weigh 31.25 + 12.5 = 43.75 of 100: 3.75 points over the 40% margin -> max_margin_error .0375.
    # (Clipping against the moving mean left a mean of 12.125, so 18.75 was 1.546 times the weights' mean.)
    res = rake(CELLS, MARGINS, trim=(0.5, 1.5), counts="n")
    assert not res.converged and res.max_margin_error == pytest.approx(0.0375, abs=1e-9)
    assert res.weights == pytest.approx([125 / 12, 18.75, 6.25, 18.75], abs=1e-9)
    mean = np.average(res.weights, weights=CELLS["n"])
    assert mean == pytest.approx(12.5, abs=1e-9)
    assert np.all((res.weights >= 0.5 * mean * (1 - 1e-12)) & (res.weights <= 1.5 * mean * (1 + 1e-12)))
    assert res.iterations < 100  # it stops once the weights stop changing, rather than running out


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
