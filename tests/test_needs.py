"""Needs profiling: known answers on the tiny pack (and variants of it), and the ratio method's guarantees on the
demonstration pack."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import config, needs
from analytics.build import build
from analytics.db import Store
from tests.packs import FILES, NAME, projection_rows, write_tiny_pack

CELL = ["variant", "year", "sex", "age_band"]


def tiny_store(tmp_path: Path, changes: dict[str, str]) -> Store:
    """The tiny pack with `changes` (file name → new text), built into a store."""
    build(write_tiny_pack(tmp_path / "pack", changes), tmp_path / "store.duckdb")
    return Store(tmp_path / "store.duckdb")


def edit(name: str, *pairs: tuple[str, str]) -> dict[str, str]:
    """FILES[name] with each (old, new) replaced once; fails if the fixture text is not there."""
    text = FILES[name]
    for old, new in pairs:
        assert old in text, f"fixture text {old!r} not in {name}"
        text = text.replace(old, new, 1)
    return {name: text}


def areas_summed(store: Store, locality: str | None = None) -> pd.Series:
    """Σ of the small areas' projection (of one locality, or all) per variant, year, sex and band."""
    frame = store.cursor().execute(
        "SELECT variant, year, sex, age_band, sum(population) AS population FROM stg_area_projection "
        "WHERE $locality IS NULL OR locality = $locality GROUP BY ALL", {"locality": locality}).df()
    return frame.set_index(CELL)["population"].sort_index()


def published(pack_csv: str, geography: str) -> pd.Series:
    """The projections.csv rows of one geography, read straight from the pack text (not from the store)."""
    rows = [line.split(",") for line in pack_csv.strip().splitlines()[1:]]
    frame = pd.DataFrame(rows, columns=["geography", *CELL, "population"])
    frame = frame[frame["geography"] == geography].astype({"year": int, "population": float})
    return frame.set_index(CELL)["population"].sort_index()


def notes(store: Store) -> list[str]:
    return store.meta().get("notes", "").splitlines()


def test_age_summary_tiny(tiny):
    row = needs.age_summary(tiny).set_index("locality").loc["North"]
    # 760 residents: 10 per sex × band × area; 65+ is 6 bands → 240; 75+ 4 bands → 160; 85+ → 80.
    assert (row["residents"], row["aged_65"], row["aged_75"], row["aged_85"]) == (760, 240, 160, 80)
    assert row["share_65"] == pytest.approx(100 * 240 / 760)
    # (0–14: 3 bands = 120, 65+: 240) per 100 aged 15–64 (10 bands = 400) = 90.
    assert row["dependency_ratio"] == pytest.approx(90.0)


def test_need_by_area_tiny_hand_worked(tiny):
    frame = needs.need_by_area(tiny, "dementia", 2024).set_index("area_code")
    # The gradient (Q1 1.5, Q2 1.2, Q3 1.0, Q4 0.9, Q5 0.8) over 380 residents in each of Q1, Q2, Q4, Q5 (none in
    # Q3) has a weighted mean of (1.5 + 1.2 + 0.9 + 0.8) / 4 = 1.1, so the build divides it by 1.1. Each area has
    # 40 people aged 85+ (rate 0.1): A1 = 40 × 0.1 × 1.5 / 1.1 = 60/11; A2 48/11, A3 36/11, A4 32/11.
    assert frame["expected"].to_dict() == pytest.approx({"A1": 60 / 11, "A2": 48 / 11, "A3": 36 / 11, "A4": 32 / 11})
    # Partnership 176/11 = 16 = 0.1 × 160 people aged 85+: the gradient moves need without adding to it.
    assert frame["expected"].sum() == pytest.approx(16.0)
    # A1: (60/11) / 380 against 16 / 1,520 per person → index 100 × (60/11 × 4) / 16 = 1,500/11.
    assert frame.loc["A1", "need_index"] == pytest.approx(1500 / 11)
    # 2030 projection doubles every band, so expected need doubles.
    assert needs.need_by_area(tiny, "dementia", 2030)["expected"].sum() == pytest.approx(32.0)


def test_need_table_growth_tiny(tiny):
    table = needs.need_table(tiny, 2030, "South").set_index("indicator")
    # South: A3 36/11 + A4 32/11 = 68/11 in 2024; doubled in 2030.
    assert table.loc["dementia", "base"] == pytest.approx(68 / 11)
    assert table.loc["dementia", "projected"] == pytest.approx(136 / 11)
    assert table.loc["dementia", "growth"] == pytest.approx(100.0)


def test_a_gradient_that_is_not_normalised_is_normalised_and_noted(tmp_path):
    # Gradient 2, 1.5, 1, 0.75, 0.5. A2 moved to quintile 1 and A3 to quintile 2, so residents per quintile are
    # Q1 760 (A1, A2), Q2 380 (A3), Q3 0, Q4 0, Q5 380 (A4). Weighted mean = (760 × 2 + 380 × 1.5 + 380 × 0.5)
    # / 1,520 = 2,280 / 1,520 = 1.5 (the plain mean of the five, 1.15, would be wrong). Normalised: 2/1.5 = 4/3,
    # 1.5/1.5 = 1, 1/1.5 = 2/3, 0.75/1.5 = 1/2, 0.5/1.5 = 1/3.
    gradient = "indicator,quintile,relative_rate\n" + "".join(
        f"dementia,{q},{r}\n" for q, r in zip(range(1, 6), (2, 1.5, 1, 0.75, 0.5)))
    quintiles = edit("deprivation.csv", ("A2,2000,4,2", "A2,1500,3,1"), ("A3,4000,8,4", "A3,2000,4,2"))
    store = tiny_store(tmp_path, {"need_gradient.csv": gradient, **quintiles})
    rates = store.cursor().execute("SELECT quintile, relative_rate FROM stg_need_gradient ORDER BY quintile").df()
    assert list(rates["relative_rate"]) == pytest.approx([4 / 3, 1, 2 / 3, 1 / 2, 1 / 3])
    # 40 people aged 85+ per area × rate 0.1 × normalised gradient: A1, A2 (Q1) 4 × 4/3 = 16/3; A3 (Q2) 4 × 1 = 4;
    # A4 (Q5) 4 × 1/3 = 4/3. Total 16/3 + 16/3 + 4 + 4/3 = 16 = 0.1 × 160 people aged 85+.
    expected = needs.need_by_area(store, "dementia", 2024).set_index("area_code")["expected"]
    assert expected.to_dict() == pytest.approx({"A1": 16 / 3, "A2": 16 / 3, "A3": 4.0, "A4": 4 / 3})
    said = [n for n in notes(store) if "need gradient for 'dementia'" in n]
    assert len(said) == 1 and "mean of 1.5," in said[0] and "1.33, 1, 0.667, 0.5, 0.333" in said[0], notes(store)


def test_a_normalised_gradient_is_left_alone_without_a_note(tmp_path):
    # Q1, Q2, Q4, Q5 hold 380 each: (1.2 + 1.1 + 0.9 + 0.8) / 4 = 1, already normalised; Q3 (no one) 1.3 is free.
    gradient = "indicator,quintile,relative_rate\n" + "".join(
        f"dementia,{q},{r}\n" for q, r in zip(range(1, 6), (1.2, 1.1, 1.3, 0.9, 0.8)))
    store = tiny_store(tmp_path, {"need_gradient.csv": gradient})
    rates = store.cursor().execute("SELECT relative_rate FROM stg_need_gradient ORDER BY quintile").df()
    assert list(rates["relative_rate"]) == pytest.approx([1.2, 1.1, 1.3, 0.9, 0.8])
    assert not [n for n in notes(store) if "gradient" in n]


# --- Projections by the ratio method: small areas add up exactly to what they share -------------------------

EDGE_PROJECTIONS = FILES["projections.csv"] + projection_rows(NAME, "high", {2024: 40, 2030: 100})
EDGE_POPULATION = edit(
    "population.csv",
    ("A1,M,40-44,10", "A1,M,40-44,30"),  # uneven: M 40-44 residents 30, 10, 10, 10 (60 in all)
    *((f"{a},F,85-89,10", f"{a},F,85-89,0") for a in ("A1", "A2", "A3", "A4")),  # a band nobody lives in
)["population.csv"]
# F 90+ is projected but has no rows in population.csv at all.
EDGE_POPULATION = "".join(line + "\n" for line in EDGE_POPULATION.splitlines() if ",F,90+," not in line)


def test_small_areas_add_up_to_the_partnership_in_every_cell(tmp_path):
    store = tiny_store(tmp_path, {"projections.csv": EDGE_PROJECTIONS, "population.csv": EDGE_POPULATION})
    whole = published(EDGE_PROJECTIONS, NAME)
    assert len(whole) == 2 * 2 * 2 * 19  # principal and high × 2024, 2030 × F, M × 19 bands
    assert np.allclose(areas_summed(store).reindex(whole.index).fillna(0), whole, rtol=1e-12, atol=1e-9)
    areas = store.cursor().execute("SELECT * FROM stg_area_projection WHERE variant = 'principal' AND year = 2030"
                                   ).df().set_index(["area_code", "sex", "age_band"])["population"]
    # M 40-44 in 2030: 80 shared 30 : 10 : 10 : 10 of 60 → A1 = 80 × 30/60 = 40, the others 80 × 10/60 = 40/3.
    assert areas[("A1", "M", "40-44")] == pytest.approx(40) and areas[("A4", "M", "40-44")] == pytest.approx(40 / 3)
    # F 85-89 (0 residents) and F 90+ (no rows) fall back to each area's women of all ages, 170 in each area:
    # 80 / 4 = 20 per area, where a share of nobody would have lost all 80.
    for band in ("85-89", "90+"):
        assert [areas[(a, "F", band)] for a in ("A1", "A2", "A3", "A4")] == pytest.approx([20] * 4), band
    # An even band: 80 × 10/40 = 20 per area.
    assert areas[("A2", "M", "0-4")] == pytest.approx(20)


def test_a_projection_from_another_base_is_shared_as_published(tmp_path):
    """Published projections made from an older base (2016-based, with mid-2020 estimates) do not match the
    population file in its year. Areas take their share of the published figures, so they add up to them: the
    projection says 44 per band in 2024 and 88 in 2030 where the file has 40 (10 per area), so each area gets
    44 × 10/40 = 11 and 88 × 10/40 = 22. (Applying the growth 88/44 to the file's 10 would give 20, and areas
    adding up to 80, not the published 88.)"""
    header, *rows = FILES["projections.csv"].splitlines()
    changed = "\n".join([header] + [r.rsplit(",", 1)[0] + (",44" if ",2024," in r else ",88") for r in rows]) + "\n"
    store = tiny_store(tmp_path, {"projections.csv": changed})
    north = needs.projection(store, "North").set_index(["year", "sex", "age_band"])["population"]
    assert north[(2024, "F", "40-44")] == pytest.approx(22)  # 2 areas × 11
    assert north[(2030, "F", "40-44")] == pytest.approx(44)  # 2 areas × 22
    assert np.allclose(areas_summed(store), published(changed, NAME))
    # Need: 44 × 0.1 per band aged 85+ × 4 cells (F, M × 85-89, 90+) = 17.6 in 2024; 35.2 in 2030 (the
    # normalised gradient moves it between areas only, all of which have the same age mix).
    assert needs.need_by_area(store, "dementia", 2024)["expected"].sum() == pytest.approx(17.6)
    assert needs.need_by_area(store, "dementia", 2030)["expected"].sum() == pytest.approx(35.2)


NORTH_PROJECTIONS = (FILES["projections.csv"] + projection_rows(NAME, "high", {2024: 40, 2030: 100})
                     + projection_rows("North", "principal", {2024: 20, 2030: 50}))
UNEVEN_F04 = edit("population.csv", ("A1,F,0-4,10", "A1,F,0-4,30"))  # F 0-4: North 30 + 10, South 10 + 10


def test_a_locality_projection_is_used_as_published_and_its_areas_add_up_to_it(tmp_path):
    store = tiny_store(tmp_path, {"projections.csv": NORTH_PROJECTIONS, **UNEVEN_F04})
    north = published(NORTH_PROJECTIONS, "North")
    assert len(north) == 2 * 2 * 19 and set(north) == {20, 50}
    # The North's own rows, as published, for every year, sex and band; and its two areas add up to them.
    shown = needs.projection(store, "North", "principal").set_index(["year", "sex", "age_band"])["population"]
    assert np.allclose(shown.sort_index(), north.droplevel("variant"))
    assert np.allclose(areas_summed(store, "North").loc["principal"].sort_index(), north.droplevel("variant"))
    # Every variant still adds up to the partnership's (principal: North's own + the rest shared by South).
    whole = published(NORTH_PROJECTIONS, NAME)
    assert np.allclose(areas_summed(store).reindex(whole.index), whole)
    areas = store.cursor().execute("SELECT * FROM stg_area_projection WHERE year = 2030 AND sex = 'F' AND "
                                   "age_band = '0-4'").df().set_index(["variant", "area_code"])["population"]
    # principal 2030 F 0-4: North's 50 shared by its own residents 30 : 10 → A1 37.5, A2 12.5 (not by the
    # partnership's 80 × 30/60 = 40); South shares 80 − 50 = 30 by 10 : 10 → 15 each.
    assert [areas[("principal", a)] for a in ("A1", "A2", "A3", "A4")] == pytest.approx([37.5, 12.5, 15, 15])
    # high (no North rows) 2030 F 0-4: the partnership's 100 by 30 : 10 : 10 : 10 of 60 → 50, 50/3 each.
    assert [areas[("high", a)] for a in ("A1", "A2", "A3", "A4")] == pytest.approx([50, 50 / 3, 50 / 3, 50 / 3])
    said = [n for n in notes(store) if n.startswith("Projections for North are used as published (76 rows)")]
    assert len(said) == 1, notes(store)


def test_locality_projections_larger_than_the_partnership_are_noted(tmp_path):
    # North says 90 in 2030 where the partnership says 80 in every one of the 38 cells: South's pool is 0.
    projections = FILES["projections.csv"] + projection_rows("North", "principal", {2024: 20, 2030: 90})
    store = tiny_store(tmp_path, {"projections.csv": projections})
    south = needs.projection(store, "South").set_index(["year", "sex", "age_band"])["population"]
    assert south[(2030, "M", "0-4")] == 0 and south[(2024, "M", "0-4")] == pytest.approx(20)  # 40 − 20
    assert any(n.startswith("In 38 variant × year × sex × age band cells") for n in notes(store)), notes(store)


# --- The demonstration pack ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_population() -> pd.DataFrame:
    return pd.read_csv(config.DEMO_PACK / "population.csv", dtype={"area_code": str})


def test_base_year_projection_equals_population_file(demo, demo_population):
    # The demonstration projection starts from population.csv, so its areas' shares give the file back.
    base = int(demo.meta()["base_year"])
    for variant in needs.variants(demo)["variant"]:
        proj = needs.projection(demo, "All", variant)
        proj = proj[proj["year"] == base].set_index(["sex", "age_band"])["population"]
        expected = demo_population.groupby(["sex", "age_band"])["population"].sum()
        assert np.allclose(proj.sort_index(), expected.sort_index().astype(float)), variant


def test_demo_small_areas_and_localities_add_up_to_the_published_projection(demo):
    raw = pd.read_csv(config.DEMO_PACK / "projections.csv")
    whole = raw.set_index(CELL)["population"].astype(float).sort_index()
    assert np.allclose(areas_summed(demo).reindex(whole.index), whole, rtol=1e-12)
    localities = needs.age_summary(demo)["locality"].drop_duplicates()
    for variant in whole.index.unique("variant"):
        parts = sum(needs.projection(demo, loc, variant).set_index(["year", "sex", "age_band"])["population"]
                    for loc in localities if loc != config.ALL_LOCALITIES)
        assert np.allclose(parts.sort_index(), whole.loc[variant]), variant


def test_base_year_need_equals_rate_times_population_computed_independently(demo, demo_population):
    rates = pd.read_csv(config.DEMO_PACK / "need_indicators.csv")
    gradient = pd.read_csv(config.DEMO_PACK / "need_gradient.csv")
    quintiles = pd.read_csv(config.DEMO_PACK / "deprivation.csv", dtype={"area_code": str})[["area_code", "quintile"]]
    residents = demo_population.merge(quintiles, on="area_code").groupby("quintile")["population"].sum()
    base = int(demo.meta()["base_year"])
    for indicator in rates["indicator"].unique():
        r = rates[rates["indicator"] == indicator][["sex", "age_band", "rate"]]
        g = gradient[gradient["indicator"] == indicator].set_index("quintile")["relative_rate"]
        g = g.reindex(range(1, 6)).fillna(1.0)
        g = g / (g * residents).sum() * residents.sum()  # normalised: residents-weighted mean 1
        merged = demo_population.merge(r, on=["sex", "age_band"]).merge(quintiles, on="area_code")
        expected = (merged["population"] * merged["rate"] * merged["quintile"].map(g)).sum()
        got = needs.need_by_area(demo, indicator, base)["expected"].sum()
        assert got == pytest.approx(expected, rel=1e-9), indicator
