"""The automated attacker (bench/attack.py, issue 18) against the published figures: with cell-key perturbation it
must prove no count under the threshold, in any family; with the protection switched off (exact counts, small
ones withheld) it must prove some, and every count it claims must be the true one (so the test can fail)."""
from __future__ import annotations

import io

import numpy as np
import pytest

from analytics import reach
from bench import attack


def test_a_published_count_stands_for_the_range_the_perturbation_table_allows():
    # Threshold 5: withheld = 0…4; 5 = 1…13 (a small count shown as 5, or 5…13 moved down); 20 = 13…28 (12 may
    # move only 7 up, staying 7 clear of 5); 6 = 6…14 (6 comes only from c ≥ 6, since 5 is never moved).
    low, high = attack.ranges(np.array([np.nan, 5, 20, 6]), 5, "perturb")
    assert low.tolist() == [0, 1, 13, 6] and high.tolist() == [4, 13, 28, 14]
    low, high = attack.ranges(np.array([np.nan, 5, 20]), 5, "suppress")
    assert low.tolist() == [0, 5, 20] and high.tolist() == [4, 5, 20]


def test_lp_pins_the_one_withheld_cell_of_an_exact_2x2_table_from_its_margins():
    # cells [[10, ?], [7, 12]], rows 13 and 19, columns 17 and 15, total 32, no perturbation: ? = 13 − 10 = 3.
    low, high = attack.ranges(np.array([10, np.nan, 7, 12]), 5, "suppress")
    rows, cols = attack.ranges(np.array([13, 19]), 5, "suppress"), attack.ranges(np.array([17, 15]), 5, "suppress")
    lo, hi = attack.lp_bounds(low.reshape(2, 2), high.reshape(2, 2), rows, cols, (32, 32))
    assert lo[0, 1] == pytest.approx(3) and hi[0, 1] == pytest.approx(3)


def test_lp_cannot_pin_the_same_cell_once_every_count_is_perturbed():
    # The same published numbers read through the perturbation table: 10 → 8…18 (a count moves down to 10 only
    # from c ≥ (10 + 5) / 2), 13 → 9…21, so ? = row − cell may be anything from 0 to 4: not pinned.
    low, high = attack.ranges(np.array([10, np.nan, 7, 12]), 5, "perturb")
    rows, cols = attack.ranges(np.array([13, 19]), 5, "perturb"), attack.ranges(np.array([17, 15]), 5, "perturb")
    lo, hi = attack.lp_bounds(low.reshape(2, 2), high.reshape(2, 2), rows, cols, (24, 40))
    assert lo[0, 1] == pytest.approx(0) and hi[0, 1] == pytest.approx(4)
    assert attack._pinned(lo[0, 1], hi[0, 1], 5) is None and attack._pinned(3, 3, 5) == 3


def _exact(con, record: dict) -> int:
    """The true count the record claims: Σ sign × respondents in its cell under each term's filters, from the
    respondent cells of the one base (true counts: analytics/ only)."""
    total = 0
    for sign, given in record["terms"]:
        if record["table"] == "community":
            cells = con.query("community_respondents", min_age=15, **reach.filters(**given))
        else:
            cells = reach.respondent_cells(con, 15, **given)
        for column, value in record["cell"].items():
            cells = cells[cells[column].astype(str) == value]
        total += sign * int(cells["respondents"].sum())
    return total


def _families(con, protection: str) -> dict:
    return attack.run(con, protection)


@pytest.mark.slow
def test_with_perturbation_the_attacker_proves_no_small_count_on_the_demo(demo):
    got = _families(demo, "perturb")
    for family, result in got.items():
        assert result["attempts"] > 0, family
        assert result["records"] == [], (family, result["records"][:3])
    # What a careless attacker would read as small counts is there to read, and proves nothing.
    assert sum(r.get("naive", 0) for r in got.values()) > 0


@pytest.mark.slow
def test_with_protection_off_the_attacker_proves_small_counts_and_each_is_true(demo):
    limit = reach.threshold(demo)
    got = _families(demo, "suppress")
    for family in ("method", "month", "months", "lp"):
        assert len(got[family]["records"]) >= 1, family
    for result in got.values():
        for record in result["records"]:
            assert 0 <= record["value"] < limit, record
            assert record["value"] == _exact(demo, record), record
    assert any(r["value"] >= 1 for res in got.values() for r in res["records"])  # not only zeros


@pytest.fixture(scope="module")
def another(tmp_path_factory):
    """A second partnership: the generator's other seed, a smaller geography and ledger."""
    from analytics import demo
    folder = tmp_path_factory.mktemp("another")
    demo.main(["--areas", "300", "--responses", "4000", "--seed", "11", "--out", str(folder / "pack")])
    return _built(folder)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """North Lanarkshire imported from the published files, with a synthetic ledger (an import brings an empty
    one): a real partnership's geography, localities and population under attack."""
    from analytics.importers.errors import Report
    from analytics.importers.scotland import parse_args, run
    from tests.ledgers import write_ledger
    from tests.test_import_scotland import DATA, nl_args
    if not DATA.is_dir():
        pytest.skip(f"the published Scottish data are not at {DATA}")
    folder = tmp_path_factory.mktemp("imported")
    run(parse_args(nl_args(folder / "pack")), Report(stream=io.StringIO()))
    write_ledger(folder / "pack", seed=3)
    return _built(folder)


def _built(folder):
    from analytics.build import build
    from analytics.db import Store
    build(folder / "pack", folder / "store.duckdb")
    return Store(folder / "store.duckdb")


@pytest.mark.slow
@pytest.mark.parametrize("pack", ["another", "imported"])
def test_the_attacker_proves_nothing_on_other_partnerships_and_would_without_protection(pack, request):
    con = request.getfixturevalue(pack)
    on, off = _families(con, "perturb"), _families(con, "suppress")
    assert all(result["records"] == [] for result in on.values()), {k: v["records"][:2] for k, v in on.items()}
    assert sum(result["attempts"] for result in on.values()) > 1000
    recovered = [r for result in off.values() for r in result["records"]]
    assert recovered and all(r["value"] == _exact(con, r) for r in recovered)
