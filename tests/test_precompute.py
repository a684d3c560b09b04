"""Issue 21: the build computes every page's first-run results into the store, and `ui.compute` answers from them.

On the tiny pack: stored results are byte for byte what the functions return; the call key is the call; a result
made by other code, or a call not listed, is computed as before; and each listed page's first run (default view, and
a single filter changed through the address) asks for nothing the store does not hold.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import duckdb
import pytest

from analytics import home, needs, precompute, reach
from analytics.build import build
from analytics.db import Store
from tests.apptest import run
from tests.packs import write_tiny_pack

# Each page the list covers, and an address changing one filter (the others at their defaults).
PAGES = {"dashboard.py": {"present": "1"},
         "pages/1_Needs_profile.py": {"locality": "North"},
         "pages/2_Engagement_reach.py": {"by": "quintile"},
         "pages/2_Reach_over_time.py": {"by": "community", "side_by": "quintile"},
         "pages/3_Hard_to_reach.py": {"weight": "1.0"},
         "pages/5_Citizens_panel.py": {"by_quintile": "yes"},
         "pages/6_Survey_weighting.py": {"trim": "0"},
         "pages/8_About_the_data.py": {}}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("precompute")
    pack, db = write_tiny_pack(folder / "pack"), folder / "store.duckdb"
    counts = build(pack, db, precompute=True)
    assert counts["precomputed"] > 100  # the tiny pack's pages ask for ~200 distinct calls
    return pack, db


def stored(db: Path) -> dict[str, bytes]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute(f"SELECT call, result FROM {precompute.TABLE}").fetchall())


def test_the_call_key_is_the_call_with_its_arguments_sorted():
    assert precompute.call_key(needs.pyramid, {"locality": "North"}) == "analytics.needs.pyramid(locality='North')"
    assert (precompute.call_key(reach.scores, {"dimension": "sex", "by": "method"})
            == precompute.call_key(reach.scores, {"by": "method", "dimension": "sex"})
            == "analytics.reach.scores(by='method', dimension='sex')")
    # Types stay apart, as they do in the shared cache's key.
    assert precompute.call_key(home.need_reach, {"year": 2030}) != precompute.call_key(home.need_reach, {"year": "2030"})


def test_the_list_has_each_single_filter_value_once(built):
    store = Store(built[1])
    try:
        calls = precompute.first_run_calls(store)
    finally:
        store.close()
    keys = list(calls)
    assert len(keys) == len(set(keys))
    # Home's year filter: every projection year after the base year (2025-2030 in the tiny pack).
    assert [k for k in keys if k.startswith("analytics.home.need_reach(")] == [
        f"analytics.home.need_reach(year={y})" for y in (2030, 2025, 2026, 2027, 2028, 2029)]
    # Engagement reach: each locality alone, with the other filters at their defaults.
    localities = {k.split("locality=")[1].split(",")[0] for k in keys if k.startswith("analytics.reach.timeline(")}
    assert localities == {"'All'", "'North'", "'South'"}


def test_stored_results_are_byte_for_byte_what_the_functions_return(built):
    rows = stored(built[1])
    store = Store(built[1])
    try:
        calls = precompute.first_run_calls(store)
        assert set(rows) <= set(calls) and len(rows) > 100
        for key, blob in rows.items():
            function, kwargs = calls[key]
            assert blob == pickle.dumps(function(store, **kwargs), protocol=pickle.HIGHEST_PROTOCOL), key
            # What ui.compute receives is that stored result (pickling an unpickled object again may share equal
            # strings, so the comparison is with the same round trip).
            again = pickle.dumps(pickle.loads(blob), protocol=pickle.HIGHEST_PROTOCOL)
            assert pickle.dumps(precompute.lookup(store, function, kwargs), protocol=pickle.HIGHEST_PROTOCOL) == again
    finally:
        store.close()


def test_other_calls_other_code_and_older_stores_are_computed(built, tmp_path, monkeypatch):
    assert precompute.is_current(built[1])
    store = Store(built[1])
    try:
        assert precompute.lookup(store, needs.pyramid, {"locality": "North"}) is not precompute.MISSING
        assert precompute.lookup(store, needs.pyramid, {"locality": "Atlantis"}) is precompute.MISSING
        monkeypatch.setattr(precompute, "code_hash", lambda: "other code")
        assert precompute.lookup(store, needs.pyramid, {"locality": "North"}) is precompute.MISSING
    finally:
        store.close()
    monkeypatch.delenv("REACH_PRECOMPUTE", raising=False)
    plain = tmp_path / "plain.duckdb"
    assert "precomputed" not in build(built[0], plain)  # off unless asked: commits and tests build often
    store = Store(plain)
    try:
        assert precompute.lookup(store, needs.pyramid, {"locality": "North"}) is precompute.MISSING
    finally:
        store.close()
    assert not precompute.is_current(plain)


@pytest.mark.parametrize("page", PAGES)
def test_a_first_run_asks_for_nothing_the_store_lacks(built, page, monkeypatch):
    from analytics import ui
    pack, db = built
    monkeypatch.setenv("REACH_PACK", str(pack))
    monkeypatch.setenv("REACH_DB", str(db))
    asked, missed = [], []
    real = precompute.lookup

    def recording(con, function, kwargs):
        found = real(con, function, kwargs)
        asked.append(precompute.call_key(function, kwargs))
        if found is precompute.MISSING:
            missed.append((function, dict(kwargs)))
        return found
    monkeypatch.setattr(precompute, "lookup", recording)
    for params in ({}, PAGES[page]):
        ui._RESULTS.clear()  # another test's pages may have cached the same pack's results
        at = run(page, params)
        assert not at.exception, [e.message for e in at.exception]
    # A call that raises is not stored (the page shows its error, e.g. too few respondents to weight on this pack).
    assert asked and [precompute.call_key(f, kw) for f, kw in missed if not raises(built[1], f, kw)] == []


def raises(db: Path, function, kwargs) -> bool:
    store = Store(db)
    try:
        function(store, **kwargs)
    except Exception:  # noqa: BLE001
        return True
    finally:
        store.close()
    return False
