"""Primary and secondary suppression on hand-made tables."""
import numpy as np
import pandas as pd

from analytics.disclosure import suppress


def test_primary_and_secondary_in_one_dimension():
    frame = pd.DataFrame({"group": list("abcd"), "n": [2, 10, 12, 30], "share": [0.04, 0.19, 0.22, 0.56]})
    out = suppress(frame, "n", 5, derived=("share",), additive=("group",))
    # 2 is under 5; with the total (54) shown, 'a' could be worked back, so the next smallest (10) goes too.
    assert out["withheld"].tolist() == [True, True, False, False]
    assert out["n"].isna().tolist() == [True, True, False, False]
    assert out["share"].isna().tolist() == [True, True, False, False]
    assert out.loc[2, "n"] == 12


def test_zero_is_withheld_and_non_additive_tables_get_no_secondary():
    frame = pd.DataFrame({"community": ["A", "B", "C"], "n": [0, 7, 9]})
    out = suppress(frame, "n", 5)
    assert out["withheld"].tolist() == [True, False, False]


def test_two_dimensions_complete_the_rectangle():
    frame = pd.DataFrame({"row": ["r1"] * 3 + ["r2"] * 3, "col": list("abc") * 2, "n": [3, 20, 30, 15, 25, 40]})
    out = suppress(frame, "n", 5, additive=("row", "col"))
    # r1a primary; row r1 → r1b (20); column a → r2a (15); column b then has one → r2b (25).
    assert out["withheld"].tolist() == [True, True, False, True, True, False]
    for line in (out.groupby("row"), out.groupby("col")):
        assert all(g["withheld"].sum() != 1 for _, g in line)


def test_nested_totals_protect_within_a_locality():
    frame = pd.DataFrame({"hood": ["h1", "h2", "h3", "h4"], "locality": ["L1", "L1", "L2", "L2"],
                          "n": [3, 50, 40, 60]})
    out = suppress(frame, "n", 5, additive=("hood",), totals=(("locality",),))
    # h1 primary; its locality line L1 → h2 (the only other); the grand total line then has 2 withheld.
    assert out["withheld"].tolist() == [True, True, False, False]
    assert np.isnan(out.loc[1, "n"])
