"""Cell-key perturbation (analytics/disclosure.py), worked by hand: the perturbation table, the look-up by cell key,
consistency, withholding and the record keys the build makes."""
import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import disclosure
from analytics.disclosure import KEY_SPACE, adjustments, perturb, possible_counts, protect, ptable, withhold


def test_small_counts_become_zero_or_the_threshold_with_the_right_chances():
    # Threshold 5: a count of 2 is published as 5 with probability 2/5 (so its mean stays 2), else as 0.
    assert adjustments(2, 5) == {0: pytest.approx(0.6), 5: pytest.approx(0.4)}
    assert adjustments(0, 5) == {0: 1.0}
    # Cell keys below 0.4 of the key space give 5, the rest 0.
    keys = [0, int(0.399 * KEY_SPACE), int(0.401 * KEY_SPACE), KEY_SPACE - 1]
    assert perturb([2, 2, 2, 2], keys, 5).tolist() == [5, 5, 0, 0]


def test_the_adjustment_of_a_large_count_is_a_truncated_discrete_laplace():
    # P(d) ∝ 0.3^|d|, |d| ≤ 8: the normaliser is 1 + 2(0.3 + 0.09 + … + 0.3^8) = 1.857088…, so P(0) = 0.53848,
    # P(±1) = 0.16154, P(±2) = 0.04846; variance Σ d² P(d) = 1.2218.
    row = {count - 100: p for count, p in adjustments(100, 5).items()}
    assert sorted(row) == list(range(-8, 9))
    z = 1 + 2 * sum(0.3**k for k in range(1, 9))
    assert row[0] == pytest.approx(1 / z) and row[0] == pytest.approx(0.53848, abs=1e-5)
    assert row[1] == pytest.approx(0.3 / z) and row[-1] == pytest.approx(0.3 / z)
    assert row[2] == pytest.approx(0.04846, abs=1e-5)
    assert sum(d * d * p for d, p in row.items()) == pytest.approx(1.2218, abs=1e-4)
    # The middle of the key space is d = 0; its first and last keys are the extremes −8 and +8.
    assert perturb([100, 100, 100], [KEY_SPACE // 2, 0, KEY_SPACE - 1], 5).tolist() == [100, 92, 108]


def test_counts_near_the_threshold_never_move_below_it_and_stay_right_on_average():
    # 5 stays 5; 6 moves by at most 1 (to 5, 6 or 7), symmetric, so its mean is 6.
    assert adjustments(5, 5) == {5: 1.0}
    six = adjustments(6, 5)
    assert set(six) == {5, 6, 7} and six[5] == pytest.approx(six[7]) and six[6] == pytest.approx(1 / 1.6)
    table = ptable(5, 40)
    means = table.assign(v=table["published"] * table["probability"]).groupby("count")["v"].sum()
    assert np.allclose(means.to_numpy(), means.index.to_numpy())
    assert not table.loc[table["probability"] > 0, "published"].between(1, 4).any()  # never 1 … threshold − 1


def test_the_ranges_an_attacker_may_assume_are_exactly_those_the_table_allows():
    table = ptable(5, 60)
    for value in range(0, 45):
        behind = table.loc[(table["published"] == value) & (table["probability"] > 0), "count"]
        if len(behind):
            assert (behind.min(), behind.max()) == possible_counts(value, 5), value


def test_the_same_cell_key_always_gives_the_same_published_count_and_keys_add_modulo_the_space():
    counts, keys = np.array([40, 3, 250]), np.array([123_456, 987_654, 555_555])
    assert perturb(counts, keys, 5).tolist() == perturb(counts, keys, 5).tolist()
    assert perturb([40], [123_456 + 3 * KEY_SPACE], 5).tolist() == perturb([40], [123_456], 5).tolist()


def test_threshold_zero_publishes_true_counts():
    assert perturb([0, 3, 40], [1, 2, 3], 0).tolist() == [0, 3, 40]


def test_protect_publishes_then_withholds_what_is_under_the_threshold_and_drops_the_key():
    frame = pd.DataFrame({"group": list("abc"), "n": [2, 2, 30], "ckey": [0, KEY_SPACE - 1, KEY_SPACE // 2]})
    out = protect(frame, "n", 5)
    # a: 2 with key 0 → 5 (shown); b: 2 with the last key → 0 (withheld); c: the middle key → 30 unchanged.
    assert out["n"].tolist()[0] == 5 and np.isnan(out["n"].iloc[1]) and out["n"].iloc[2] == 30
    assert out["withheld"].tolist() == [False, True, False] and "ckey" not in out
    exact = protect(frame, "n", 5, exact=True)
    assert exact["n"].tolist() == [2, 2, 30] and not exact["withheld"].any()


def test_withhold_blanks_derived_figures_with_the_count():
    out = withhold(pd.DataFrame({"n": [0.0, 7.0], "share": [0.0, 0.7]}), "n", 5, ("share",))
    assert out["withheld"].tolist() == [True, False] and out["share"].isna().tolist() == [True, False]


def test_record_keys_are_fixed_by_id_and_secret_and_spread_evenly():
    con = duckdb.connect()
    con.execute("CREATE TABLE r AS SELECT 'R' || i AS response_id FROM range(20000) t(i)")
    sql = f"SELECT response_id, {disclosure.record_key_sql('response_id', 'response')} AS k FROM r ORDER BY 1"
    first = con.execute(sql, {"secret": "s1"}).df()
    again = con.execute(sql, {"secret": "s1"}).df()
    other = con.execute(sql, {"secret": "s2"}).df()
    assert first["k"].equals(again["k"]) and not first["k"].equals(other["k"])
    assert first["k"].between(0, KEY_SPACE - 1).all()
    # Uniform on 0 … 2²⁰ − 1: each of 8 equal bins holds 2,500 ± 3 standard deviations (√(20000·⅛·⅞) ≈ 47).
    bins = np.bincount(first["k"] * 8 // KEY_SPACE, minlength=8)
    assert np.all(np.abs(bins - 2500) < 3 * 47), bins


def test_published_figures_on_the_demo_stay_within_the_tables_stated_maximum(demo):
    """Issue 18, accuracy: every published count of every representation table differs from the true one by at
    most the perturbation table's maximum (8), a count under the threshold is published as 0 or the threshold,
    and the same people always give the same figure (a group's count in two tables of the same people)."""
    from analytics import reach
    limit = reach.threshold(demo)
    compared = 0
    for dimension in ("locality", "quintile", "sex", "age_band+sex", "age_group+sex", "community",
                      "locality+community"):
        for given in ({}, {"method": "focus_group"}, {"date_to": "2025-12-01"}):
            shown = reach.representation(demo, dimension, **given)
            true = reach.representation(demo, dimension, exact=True, **given)
            published, exact = shown["respondents"].fillna(0).to_numpy(), true["respondents"].to_numpy()
            small = exact < limit
            assert set(published[small]) <= {0, limit}, dimension
            assert (abs(published - exact)[~small] <= disclosure.MAX_ADJUSTMENT).all(), dimension
            assert not ((published >= 1) & (published < limit)).any(), dimension
            compared += len(exact)
    assert compared > 400
    # The same people, two tables: each locality's count in the locality table and on the coverage table.
    by_locality = reach.representation(demo, "locality").set_index("locality")["respondents"]
    coverage = reach.coverage_by_locality(demo).set_index("locality")["respondents"]
    assert by_locality.to_dict() == coverage.to_dict()
