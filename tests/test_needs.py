"""Needs profiling: known answers on the tiny pack, and the ratio method's guarantees on the demonstration pack."""
import numpy as np
import pandas as pd
import pytest

from analytics import config, needs


def test_age_summary_tiny(tiny):
    row = needs.age_summary(tiny).set_index("locality").loc["North"]
    # 760 residents: 10 per sex × band × area; 65+ is 6 bands → 240; 75+ 4 bands → 160; 85+ → 80.
    assert (row["residents"], row["aged_65"], row["aged_75"], row["aged_85"]) == (760, 240, 160, 80)
    assert row["share_65"] == pytest.approx(100 * 240 / 760)
    # (0–14: 3 bands = 120, 65+: 240) per 100 aged 15–64 (10 bands = 400) = 90.
    assert row["dependency_ratio"] == pytest.approx(90.0)


def test_need_by_area_tiny_hand_worked(tiny):
    frame = needs.need_by_area(tiny, "dementia", 2024).set_index("area_code")
    # 40 people aged 85+ per area × 0.1 × gradient (Q1 1.5, Q2 1.2, Q4 0.9, Q5 0.8).
    assert frame["expected"].to_dict() == pytest.approx({"A1": 6.0, "A2": 4.8, "A3": 3.6, "A4": 3.2})
    # Partnership: 17.6 per 1,520 residents; A1: 6 per 380 → index = (6/380)/(17.6/1520) × 100.
    assert frame.loc["A1", "need_index"] == pytest.approx(100 * (6 / 380) / (17.6 / 1520))
    # 2030 projection doubles every band, so expected need doubles.
    assert needs.need_by_area(tiny, "dementia", 2030)["expected"].sum() == pytest.approx(35.2)


def test_need_table_growth_tiny(tiny):
    table = needs.need_table(tiny, 2030, "South").set_index("indicator")
    assert table.loc["dementia", "base"] == pytest.approx(6.8)
    assert table.loc["dementia", "projected"] == pytest.approx(13.6)
    assert table.loc["dementia", "growth"] == pytest.approx(100.0)


@pytest.fixture(scope="module")
def demo_population(demo):
    pop = pd.read_csv(config.DEMO_PACK / "population.csv", dtype={"area_code": str})
    areas = demo.query("population_cells")[["neighbourhood_code"]]  # touch the store once
    return pop


def test_base_year_projection_equals_population_file(demo, demo_population):
    base = int(demo.meta()["base_year"])
    for variant in needs.variants(demo)["variant"]:
        proj = needs.projection(demo, "All", variant)
        proj = proj[proj["year"] == base].set_index(["sex", "age_band"])["population"]
        expected = demo_population.groupby(["sex", "age_band"])["population"].sum()
        assert np.allclose(proj.sort_index(), expected.sort_index().astype(float)), variant


@pytest.mark.parametrize("variant", ["principal", "high", "low"])
def test_locality_projections_add_up_to_the_partnership(demo, variant):
    whole = demo.query("projection_by_band", locality="All", variant=variant).set_index(
        ["year", "sex", "age_band"])["population"]
    localities = needs.age_summary(demo)["locality"]
    parts = sum(demo.query("projection_by_band", locality=loc, variant=variant).set_index(
        ["year", "sex", "age_band"])["population"] for loc in localities if loc != "All")
    raw = pd.read_csv(config.DEMO_PACK / "projections.csv")
    published = raw[raw["variant"] == variant].set_index(["year", "sex", "age_band"])["population"]
    assert np.allclose(parts.sort_index(), whole.sort_index())
    assert np.allclose(whole.sort_index(), published.sort_index().astype(float))


def test_a_projection_from_another_base_is_applied_as_growth(tmp_path):
    """Published projections made from an older base (2016-based, with mid-2020 estimates) do not match the
    population file in its year. The ratio method applies their growth: here the projection says 44 per band in
    2024 and 88 in 2030 where the file has 40, so every area doubles (10 → 20 people per band), as PHS's locality
    profiles would have it; taking areas' shares of the published 88 would have given 22."""
    from analytics.build import build
    from analytics.db import Store
    from tests.packs import FILES, write_tiny_pack
    header, *rows = FILES["projections.csv"].splitlines()
    changed = "\n".join([header] + [r.rsplit(",", 1)[0] + (",44" if ",2024," in r else ",88") for r in rows])
    pack = write_tiny_pack(tmp_path / "pack", {"projections.csv": changed + "\n"})
    build(pack, tmp_path / "store.duckdb")
    store = Store(tmp_path / "store.duckdb")
    north = store.query("projection_by_band", locality="North", variant="principal").set_index(["year", "sex",
                                                                                                 "age_band"])
    assert north.loc[(2024, "F", "40-44"), "population"] == pytest.approx(20)  # 2 areas × 10, as in the file
    assert north.loc[(2030, "F", "40-44"), "population"] == pytest.approx(40)  # doubled
    assert needs.need_by_area(store, "dementia", 2024)["expected"].sum() == pytest.approx(17.6)
    assert needs.need_by_area(store, "dementia", 2030)["expected"].sum() == pytest.approx(35.2)


def test_base_year_need_equals_rate_times_population_computed_independently(demo, demo_population):
    rates = pd.read_csv(config.DEMO_PACK / "need_indicators.csv")
    gradient = pd.read_csv(config.DEMO_PACK / "need_gradient.csv")
    quintiles = pd.read_csv(config.DEMO_PACK / "deprivation.csv", dtype={"area_code": str})[["area_code", "quintile"]]
    base = int(demo.meta()["base_year"])
    for indicator in rates["indicator"].unique():
        r = rates[rates["indicator"] == indicator][["sex", "age_band", "rate"]]
        g = gradient[gradient["indicator"] == indicator].set_index("quintile")["relative_rate"]
        merged = demo_population.merge(r, on=["sex", "age_band"]).merge(quintiles, on="area_code")
        merged["gradient"] = merged["quintile"].map(g).fillna(1.0)
        expected = (merged["population"] * merged["rate"] * merged["gradient"]).sum()
        got = needs.need_by_area(demo, indicator, base)["expected"].sum()
        assert got == pytest.approx(expected, rel=1e-9), indicator
