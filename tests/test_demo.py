"""The demonstration pack: deterministic, valid under the contract, realistic, and carrying the planted biases.

Generator tests write a small pack (120 areas, 2,000 responses) under tmp_path; the rest read the committed pack in
data/demo/, and one checks that it is exactly what the generator writes today, so it cannot drift from the code.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from analytics import config, demo
from analytics.pack import Pack, load_pack

SMALL = dict(areas=120, responses=2000)


def _files(path: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(path.iterdir())}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small")
    demo.generate(demo.Options(out, **SMALL))
    return out


@pytest.fixture(scope="module")
def pack() -> Pack:
    return load_pack(config.DEMO_PACK)


@pytest.fixture(scope="module")
def people(pack) -> pd.DataFrame:
    """population.csv joined to locality and quintile, with the band's lower age."""
    return (pack.tables["population"].merge(pack.areas[["area_code", "locality"]])
            .merge(pack.tables["deprivation"][["area_code", "quintile"]])
            .assign(lower=lambda f: f["age_band"].map(config.band_lower)))


@pytest.fixture(scope="module")
def answers(pack) -> pd.DataFrame:
    """responses.csv joined to the respondent's locality and quintile (NaN where the area is blank)."""
    return (pack.tables["responses"].merge(pack.areas[["area_code", "locality"]], how="left")
            .merge(pack.tables["deprivation"][["area_code", "quintile"]], how="left"))


# --- the generator --------------------------------------------------------------------------------------------

def test_same_arguments_give_identical_files(small, tmp_path):
    demo.main(["--out", str(tmp_path), "--areas", str(SMALL["areas"]), "--responses", str(SMALL["responses"])])
    assert _files(tmp_path) == _files(small)


def test_another_seed_gives_another_pack(small, tmp_path):
    demo.generate(demo.Options(tmp_path, seed=7, **SMALL))
    assert _files(tmp_path)["responses.csv"] != _files(small)["responses.csv"]


def test_small_pack_is_valid_and_sized_as_asked(small):
    loaded = load_pack(small)  # raises PackInvalid listing every problem
    assert len(loaded.areas) == 120
    assert len(loaded.tables["responses"]) == 2000
    sizes = loaded.areas.groupby("neighbourhood_code").size()
    assert sizes.between(demo.MIN_GROUP, demo.MAX_GROUP).all()


def test_committed_pack_is_what_the_generator_writes(tmp_path):
    demo.generate(demo.Options(tmp_path))
    assert _files(tmp_path) == _files(config.DEMO_PACK)


# --- data/demo: geography and population ----------------------------------------------------------------------

def test_pack_settings(pack):
    assert pack.meta["name"] == "Invercarron HSCP (demonstration)"
    assert pack.meta["synthetic"] is True
    assert pack.meta["base_year"] == 2024 and pack.meta["suppress_below"] == 5


def test_areas_localities_and_neighbourhoods(pack):
    areas = pack.areas
    assert 700 <= len(areas) <= 900
    assert areas["area_code"].str.fullmatch(r"S019\d{5}").all()
    assert set(areas["locality"]) == set(demo.LOCALITIES)
    sizes = areas.groupby("neighbourhood_code").size()
    assert sizes.between(5, 10).all()
    assert (areas.groupby("neighbourhood_code")["locality"].nunique() == 1).all()
    assert areas["neighbourhood_name"].nunique() == len(sizes)
    assert areas["area_name"].is_unique


def test_geometries_are_valid_and_around_the_centre(pack):
    shapes = np.array([shape(f["geometry"]) for f in pack.geojson["features"]])
    assert set(shapely.get_type_id(shapes)) <= {3, 6}  # Polygon, MultiPolygon
    assert shapely.is_valid(shapes).all() and not shapely.is_empty(shapes).any()
    assert shapely.coverage_is_valid(shapes)  # neighbours share edges, nothing overlaps
    west, south, east, north = shapely.total_bounds(shapes)
    assert -3.80 < west < east < -3.30 and 55.90 < south < north < 56.14
    assert abs((west + east) / 2 - demo.CENTRE_LON) < 0.05 and abs((south + north) / 2 - demo.CENTRE_LAT) < 0.03


def test_population_totals_and_shape(people):
    assert 620_000 <= people["population"].sum() <= 680_000
    per_area = people.groupby("area_code")["population"].sum()
    assert per_area.between(500, 1000).all()
    share = people.groupby("locality").apply(
        lambda f: pd.Series({band: f.loc[f["lower"] >= band, "population"].sum() / f["population"].sum()
                             for band in (65, 85)}))
    young = people[people["lower"].isin([15, 20])].groupby("locality")["population"].sum()
    young /= people.groupby("locality")["population"].sum()
    assert young.idxmax() == "City Centre & University" and young.max() > 0.25
    assert share[65].idxmax() == "Westhaven" and share[85].idxmax() == "Westhaven"
    old = people[people["lower"] >= 75]
    assert old.loc[old["sex"] == "F", "population"].sum() > 0.55 * old["population"].sum()


def test_deprivation_ranks(pack):
    dep = pack.tables["deprivation"]
    national = demo.NATIONAL_ZONES
    for column in ["rank"] + [f"{d}_rank" for d in demo.DOMAIN_LINK]:
        assert dep[column].is_unique and dep[column].between(1, national).all()
    assert (dep["decile"] == np.ceil(dep["rank"] / 697.6).clip(1, 10)).all()
    assert (dep["quintile"] == np.ceil(dep["rank"] / 1395.2).clip(1, 5)).all()
    assert 0.2 < (dep["quintile"] == 1).mean() < 0.4  # more deprived than the country
    by_locality = dep.merge(pack.areas)[["locality", "rank"]].groupby("locality")["rank"].median()
    assert by_locality.idxmin() == "Eastfield" and by_locality.idxmax() in ("South Braes", "Westhaven")
    assert dep["rank"].corr(dep["income_rank"]) > dep["rank"].corr(dep["access_rank"])


def test_projections_start_from_the_population_and_age(pack, people):
    proj = pack.tables["projections"].assign(lower=lambda f: f["age_band"].map(config.band_lower))
    base = people.groupby(["sex", "age_band"])["population"].sum()
    assert set(proj["variant"]) == {"principal", "high", "low"}
    for variant, rows in proj.groupby("variant"):
        first = rows[rows["year"] == 2024].set_index(["sex", "age_band"])["population"]
        assert first.sort_index().equals(base.sort_index().astype(first.dtype)), variant
        assert sorted(rows["year"].unique()) == list(range(2024, 2046))

    def growth(variant: str, lower: int = 0) -> float:
        rows = proj[(proj["variant"] == variant) & (proj["lower"] >= lower)]
        return rows.loc[rows["year"] == 2043, "population"].sum() / rows.loc[rows["year"] == 2024, "population"].sum()

    assert 1.30 <= growth("principal", 75) <= 1.50
    assert 1.50 <= growth("principal", 85) <= 1.90
    assert 1.00 <= growth("principal") <= 1.05
    assert growth("low", 75) < growth("principal", 75) < growth("high", 75)



def test_student_migration_replaces_the_intake_and_removes_graduates(people):
    centre = people[people["locality"] == demo.CITY_CENTRE].groupby(["sex", "age_band"])["population"].sum()
    flows = demo._student_flows(centre.unstack().reindex(index=["F", "M"], columns=config.AGE_BANDS).to_numpy(float))
    by_band = dict(zip(config.AGE_BANDS, flows.sum(axis=0)))
    assert by_band["15-19"] > 0 and by_band["20-24"] > 0  # each year's new students arrive
    assert by_band["25-29"] < 0 and by_band["30-34"] < 0  # and most graduates leave
    assert abs(flows.sum()) < 1e-6  # turnover, not growth
    assert not np.delete(flows, [config.AGE_BANDS.index(b) for b in demo.STUDENT_BANDS], axis=1).any()


def test_projection_keeps_the_student_bands_steady(pack):
    """A university city's projection holds its student numbers: the 2024 bulge is replaced, not aged on."""
    proj = pack.tables["projections"]
    principal = proj[proj["variant"] == "principal"].groupby(["year", "age_band"])["population"].sum()
    for year in (2034, 2043):
        for band, tolerance in (("15-19", 0.08), ("20-24", 0.08), ("25-29", 0.10), ("30-34", 0.10)):
            change = principal[(year, band)] / principal[(2024, band)] - 1
            assert abs(change) <= tolerance, (year, band, round(change, 3))

# --- data/demo: communities, need, priorities -----------------------------------------------------------------

def test_communities_all_row_is_the_sum_of_localities(pack):
    com = pack.tables["communities"]
    assert com["community"].nunique() >= 13
    assert set(com["locality"]) == {*demo.LOCALITIES, config.ALL_LOCALITIES}
    for name, rows in com.groupby("community"):
        whole = rows[rows["locality"] == config.ALL_LOCALITIES].iloc[0]
        parts = rows[rows["locality"] != config.ALL_LOCALITIES]
        for column in ("population", "population_low", "population_high", "target_min"):
            if pd.isna(whole[column]):
                assert parts[column].isna().all(), (name, column)
            else:
                assert whole[column] == parts[column].sum(), (name, column)
        assert pd.notna(whole["population"]) != pd.notna(whole["target_min"]), name  # one or the other
    gypsy = com[(com["community"] == "Gypsy/Travellers") & (com["locality"] == config.ALL_LOCALITIES)]
    assert int(gypsy["target_min"].iloc[0]) == 40


def test_need_indicators_cover_every_band(pack):
    need = pack.tables["need_indicators"]
    assert sorted(need["indicator"].unique()) == sorted(
        ["dementia", "frailty", "falls", "sight_loss", "hearing_loss", "multimorbidity"])
    assert len(need) == 6 * 2 * len(config.AGE_BANDS)
    rate = need.set_index(["indicator", "sex", "age_band"])["rate"]
    assert rate[("dementia", "F", "90+")] == 0.444 and rate[("dementia", "M", "75-79")] == 0.089
    assert rate[("dementia", "F", "55-59")] == 0 and rate[("hearing_loss", "M", "70-74")] == 0.711
    assert rate[("multimorbidity", "F", "85-89")] == 0.815 and rate[("falls", "M", "80-84")] == 0.5
    gradient = pack.tables["need_gradient"]
    assert list(gradient["relative_rate"]) == [1.2, 1.1, 1.0, 0.93, 0.87]


# --- data/demo: the engagement ledger -------------------------------------------------------------------------

def test_ledger_sizes_and_references(pack):
    acts, resp = pack.tables["activities"], pack.tables["responses"]
    assert 150 <= len(acts) <= 250 and 10_000 <= len(resp) <= 15_000
    assert set(acts["method"]) == set(config.METHODS) - {"other"}
    assert set(acts["mode"]) == set(config.MODES)
    joined = resp.merge(acts[["activity_id", "start_date", "end_date", "method"]], on="activity_id", how="left")
    assert joined["start_date"].notna().all()
    assert ((joined["submitted_on"] >= joined["start_date"]) & (joined["submitted_on"] <= joined["end_date"])).all()
    surveys = acts[acts["method"].str.endswith("_survey")].set_index("activity_id")["participants"]
    counts = resp["activity_id"].value_counts().reindex(surveys.index, fill_value=0)
    assert (surveys == counts).all()
    others = acts[~acts["method"].str.endswith("_survey")].set_index("activity_id")["participants"]
    assert (resp["activity_id"].value_counts().reindex(others.index, fill_value=0) <= others).all()


def test_blanks_and_ages(answers):
    assert 0.03 < (answers["area_code"] == "").mean() < 0.08
    assert 0.02 < (answers["sex"] == "").mean() < 0.05 and 0.005 < (answers["sex"] == "X").mean() < 0.02
    assert 0.02 < (answers["age_band"] == "").mean() < 0.06
    assert not answers["age_band"].isin(["0-4", "5-9"]).any()
    assert (answers["age_band"] == "10-14").mean() < 0.005
    young = answers["communities"].str.contains("Young people (16-24)", regex=False)
    assert not young[answers["age_band"].isin(["25-29", "60-64", "10-14"])].any()
    assert young[answers["age_band"] == "20-24"].all()


def _ratio(answers: pd.DataFrame, people: pd.DataFrame, sex: str, first: int, last: int) -> float:
    """Respondents' share over residents' share for one sex and age range (raw counts)."""
    lower = answers["age_band"].map(lambda b: config.band_lower(b) if b else -1)
    respondents = ((answers["sex"] == sex) & lower.between(first, last)).mean()
    residents = people.loc[(people["sex"] == sex) & people["lower"].between(first, last), "population"].sum()
    return respondents / (residents / people["population"].sum())


def test_planted_biases(answers, people, pack):
    assert _ratio(answers, people, "F", 65, 84) > 1.4
    assert _ratio(answers, people, "M", 15, 34) < 0.6
    per_quintile = answers.groupby("quintile").size() / people.groupby("quintile")["population"].sum()
    assert per_quintile[1] < 0.7 * per_quintile[5]
    residents = people.groupby("locality")["population"].sum()
    assert (answers.groupby("locality").size() / residents).idxmax() == "Westhaven"
    acts = pack.tables["activities"]
    local = acts[acts["locality"] != config.ALL_LOCALITIES].groupby("locality").size() / residents
    assert local.idxmax() == "Westhaven" and local["Westhaven"] > 2 * local.drop("Westhaven").mean()


def test_some_communities_are_barely_heard(answers, pack):
    heard = answers["communities"].str.split(";").explode().value_counts()
    com = pack.tables["communities"].set_index(["community", "locality"])
    whole = com.xs(config.ALL_LOCALITIES, level="locality")
    residents = pack.tables["population"]["population"].sum()
    for name in ("Minority ethnic people", "LGBT+"):
        assert heard[name] / len(answers) < 0.5 * whole.at[name, "population"] / residents, name
    for name in ("Gypsy/Travellers", "Refugees and asylum seekers"):
        assert heard.get(name, 0) < 0.25 * whole.at[name, "target_min"], name
    assert 3 <= heard.get("Gypsy/Travellers", 0) <= 8
    assert heard["Unpaid carers"] / len(answers) > whole.at["Unpaid carers", "population"] / residents


def test_westhaven_meetings_overlap_on_one_community(pack):
    acts = pack.tables["activities"]
    meetings = acts[(acts["locality"] == "Westhaven") & (acts["method"] == "meeting")
                    & (acts["communities"] == "Older people living alone")].sort_values("start_date")
    gaps = pd.to_datetime(meetings["start_date"]).diff().dt.days.dropna()
    assert len(meetings) >= 4 and (gaps <= 21).sum() >= 3
