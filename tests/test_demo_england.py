"""The English demonstration example (`python -m analytics.demo --country england`): Aldermere, shaped like an English
ICS place, in the same format as the Scottish pack and as deterministic.

A small pack (300 areas, 2,000 responses) is written once under a temporary folder; data/demo is never touched.
"""
from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import config, demo
from analytics.build import build
from analytics.pack import Pack, load_pack
from tests.apptest import run

ARGS = ["--country", "england", "--areas", "300", "--responses", "2000"]
LOCALITIES = {"City Centre & University", "Eastholme", "North Wolds", "Riverside", "Westmere", "South Vale"}
SCOTTISH = re.compile(r"Invercarron|Carron|Braes|Westhaven|Eastfield|HSCP|Scot|IV99|Community Council|"
                      r"data zone|intermediate zone|SIMD")


def _files(path: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(path.iterdir())}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("england") / "pack"
    assert demo.main([*ARGS, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def pack(folder) -> Pack:
    return load_pack(folder)  # raises PackInvalid listing every problem


@pytest.fixture(scope="module")
def store(folder) -> tuple[Path, dict[str, int]]:
    db = folder.parent / "store.duckdb"
    return db, build(folder, db)


def test_same_arguments_give_identical_files(folder, tmp_path):
    demo.main([*ARGS, "--out", str(tmp_path)])
    assert _files(tmp_path) == _files(folder)
    assert set(_files(folder)) == {f.name for f in config.DEMO_PACK.glob("[!.]*")}  # the Scottish pack's files


def test_pack_builds_with_the_sizes_asked_for(store):
    counts = store[1]
    assert (counts["areas"], counts["responses"], counts["locality_geometry"]) == (300, 2000, 6)
    assert counts["population"] == 300 * 2 * len(config.AGE_BANDS)
    assert counts["deprivation"] == 300


def test_pack_toml_says_english(folder, pack):
    meta = tomllib.loads((folder / "pack.toml").read_text(encoding="utf-8"))
    assert {k: meta[k] for k in ("name", "country", "area_label", "neighbourhood_label", "deprivation_index")} == {
        "name": "Aldermere ICS place (demonstration)", "country": "england", "area_label": "LSOA",
        "neighbourhood_label": "MSOA", "deprivation_index": "IMD-style index (synthetic)"}
    assert meta["synthetic"] is True
    assert meta["cell_key_secret"] == "aldermere-demonstration-only"
    assert pack.meta["name"] == meta["name"]


def test_codes_look_like_lsoas_and_msoas(pack):
    areas = pack.areas
    assert areas["area_code"].str.fullmatch(r"E01\d{6}").all()
    assert areas["neighbourhood_code"].str.fullmatch(r"E02\d{6}").all()
    assert areas["area_code"].is_unique and len(areas) == 300
    for table in ("population", "deprivation"):
        assert set(pack.tables[table]["area_code"]) == set(areas["area_code"])
    given = pack.tables["responses"]["area_code"].fillna("")
    known = given[given != ""]
    assert 0.9 * len(given) < len(known) < len(given)  # about 5% left blank, as in the Scottish pack
    assert known.isin(set(areas["area_code"])).all()


def test_areas_and_neighbourhoods_are_sized_like_lsoas_and_msoas(pack):
    residents = pack.tables["population"].groupby("area_code")["population"].sum()
    assert residents.between(1000, 3000).all()
    assert 1500 < residents.mean() < 1900
    sizes = pack.areas.groupby("neighbourhood_code").size()
    fewest, _, most = demo.ENGLAND.group
    assert sizes.between(fewest, most).all()
    hoods = residents.groupby(pack.areas.set_index("area_code")["neighbourhood_code"]).sum()
    assert hoods.between(4000, 16000).all()


def test_deprivation_is_on_imd_2019s_national_scale(pack):
    dep = pack.tables["deprivation"]
    national = 32_844
    assert dep["rank"].between(1, national).all() and dep["rank"].is_unique
    assert (dep["decile"] == [math.ceil(r * 10 / national) for r in dep["rank"]]).all()
    assert (dep["quintile"] == (dep["decile"] + 1) // 2).all()  # pairs of deciles, as the English importer's
    assert dep["quintile"].value_counts().get(1, 0) > 0.2 * len(dep)


def test_no_scottish_name_is_left(folder, pack):
    for name, content in _files(folder).items():
        assert not SCOTTISH.search(content.decode("utf-8")), name
    assert set(pack.areas["locality"]) == LOCALITIES
    assert {demo.ENGLAND.say(name) for name in demo.LOCALITIES} == LOCALITIES
    partners = set(pack.tables["activities"]["partner"])
    assert {"Aldermere Place Engagement Team", "Westmere Age Concern", "Westmere Parish Council"} <= partners
    assert set(pack.tables["insights"]["locality"]) <= LOCALITIES | {config.ALL_LOCALITIES}
    assert set(pack.tables["stories"]["locality"]) <= LOCALITIES | {config.ALL_LOCALITIES}


def test_english_age_shape(pack):
    """England's shape (younger than Scotland's), tilted by locality as the Scottish pack is."""
    def shares(population: pd.DataFrame) -> np.ndarray:
        by_band = population.groupby("age_band")["population"].sum().reindex(config.AGE_BANDS).to_numpy()
        return 100 * by_band / by_band.sum()
    english, scottish = shares(pack.tables["population"]), shares(load_pack(config.DEMO_PACK).tables["population"])
    england = 100 * np.array(demo.ENGLAND_SHARE) / sum(demo.ENGLAND_SHARE)
    assert np.abs(english - england).max() < 2.5
    assert english[:3].sum() > scottish[:3].sum() + 1.5  # more children under 15
    assert english[13:].sum() < scottish[13:].sum() - 1  # fewer people aged 65+


def test_communities_take_englands_census_shares(pack):
    """Unpaid carers: 8.9% of residents aged 5+ (the English defaults file), tilted by locality."""
    people = pack.tables["population"].merge(pack.areas[["area_code", "locality"]])
    five_plus = people[people["age_band"] != "0-4"].groupby("locality")["population"].sum()
    carers = demo.ENGLAND.communities[demo.COMMUNITY_INDEX["Unpaid carers"]]
    rows = pack.tables["communities"].set_index(["community", "locality"])["population"]
    for name, tilt in zip(demo.LOCALITIES, carers.tilt):
        locality = demo.ENGLAND.say(name)
        assert rows[("Unpaid carers", locality)] == np.rint(0.089 * tilt * five_plus[locality])
    share = rows[("Minority ethnic people", config.ALL_LOCALITIES)] / people["population"].sum()
    assert 0.15 < share < 0.25  # 19% in England (tilted by locality), not Scotland's 7%
    sources = pack.tables["communities"].drop_duplicates("community").set_index("community")["source"]
    assert "Census 2021" in sources["Unpaid carers"] and "England" in sources["Unpaid carers"]


def test_england_needs_an_out_folder():
    """Without --out the English example would overwrite data/demo (the Scottish pack): it is refused."""
    before = _files(config.DEMO_PACK)
    with pytest.raises(SystemExit) as stopped:
        demo.main(["--country", "england", "--areas", "300"])
    assert stopped.value.code == 2
    assert _files(config.DEMO_PACK) == before


def test_home_page_runs_on_the_english_pack(folder, store, monkeypatch):
    monkeypatch.setenv("REACH_PACK", str(folder))
    monkeypatch.setenv("REACH_DB", str(store[0]))
    at = run("dashboard.py")
    assert not at.exception, [e.message for e in at.exception]
    banners = [w.value.replace("\\", "") for w in at.warning]
    assert any("Aldermere ICS place (demonstration) is fictional" in b for b in banners), banners
    residents = int(pd.read_csv(folder / "population.csv")["population"].sum())
    assert at.metric[0].value == f"{residents:,}"
