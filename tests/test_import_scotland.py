"""The Scottish open data importer, on the real published files in ../shared/data/scotland-open/.

The North Lanarkshire pack is built once per module (about 3 s); the checks against it use the figures
the README of the data folder states. Small unit tests of the detection rules run without the data.
"""
from __future__ import annotations

import io
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.config import AGE_BANDS
from analytics.importers import ages, apportion
from analytics.importers.errors import Report, ScotlandImportError
from analytics.importers.geography import read_localities
from analytics.importers.population import base_year, read_estimates
from analytics.importers.projections import variant_code
from analytics.importers.readers import year_from_text
from analytics.importers.scotland import main, parse_args, run

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "scotland-open"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"the published Scottish data are not at {DATA}")
NL_LOCALITIES = {"Airdrie", "Bellshill", "Coatbridge", "Motherwell", "North Lanarkshire North", "Wishaw"}


def nl_args(out: Path, **replace: Path) -> list[str]:
    files = {
        "boundaries": DATA / "north_lanarkshire_datazones_2011.geojson",
        "simd": DATA / "simd2020v2_datazone_ranks_scotland.csv",
        "population": DATA / "sape2020_datazone_single_year_age_sex_north_lanarkshire.csv",
        "localities": DATA / "datazone2011_to_hscp_locality_north_lanarkshire_DERIVED.csv",
        "geography-lookup": DATA / "datazone2011_geography_lookup_scotland.csv",
        **replace,
    }
    args = ["--council", "North Lanarkshire", "--out", str(out),
            "--projections", str(DATA / "nrs_popproj_2016based_principal_single_year_north_lanarkshire_scotland.csv"),
            "--projections", str(DATA / "nrs_popproj_2016based_all_variants_age_groups_councils_scotland.csv")]
    for option, path in files.items():
        args += [f"--{option}", str(path)]
    return args


@pytest.fixture(scope="module")
def nl(tmp_path_factory) -> tuple[Path, Report]:
    if not DATA.is_dir():
        pytest.skip(f"the published Scottish data are not at {DATA}")
    out = tmp_path_factory.mktemp("packs") / "north-lanarkshire"
    report = Report(stream=io.StringIO())
    run(parse_args(nl_args(out)), report)
    return out, report


def read(pack: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(pack / name, dtype={"area_code": str})


@needs_data
def test_pack_has_every_north_lanarkshire_zone_and_the_six_localities(nl):
    pack, _ = nl
    areas = pd.read_json(pack / "areas.geojson")["features"].map(lambda f: f["properties"]).apply(pd.Series)
    assert len(areas) == 447 and areas["area_code"].is_unique
    assert set(areas["locality"]) == NL_LOCALITIES
    assert areas["neighbourhood_code"].str.match(r"^S02\d{6}$").all() and areas["neighbourhood_code"].nunique() == 78
    assert set(read(pack, "population.csv")["area_code"]) == set(areas["area_code"])


@needs_data
def test_population_is_the_mid_2020_estimate_in_contract_bands(nl):
    pack, _ = nl
    population = read(pack, "population.csv")
    assert population["population"].sum() == 341_140
    assert set(population["age_band"]) == set(AGE_BANDS) and set(population["sex"]) == {"F", "M"}
    assert len(population) == 447 * 2 * len(AGE_BANDS)
    meta = tomllib.loads((pack / "pack.toml").read_text())
    assert (meta["name"], meta["base_year"], meta["deprivation_index"]) == ("North Lanarkshire HSCP", 2020,
                                                                            "SIMD 2020v2")
    assert meta["synthetic"] is False and meta["country"] == "scotland"


@needs_data
def test_simd_quintiles_and_deciles_are_the_published_ones(nl):
    pack, _ = nl
    ours = read(pack, "deprivation.csv").set_index("area_code")
    published = pd.read_csv(DATA / "simd2020v2_datazone_ranks_scotland.csv").set_index("datazone2011")
    published = published.loc[ours.index]
    assert (ours["quintile"] == published["SIMD2020v2_Quintile"]).all()
    assert (ours["decile"] == published["SIMD2020v2_Decile"]).all()
    assert (ours["rank"] == published["SIMD2020v2_Rank"]).all()
    assert (ours["crime_rank"] == np.floor(published["SIMD2020_Crime_Domain_Rank"])).all()


@needs_data
def test_projections_keep_the_published_totals(nl):
    pack, report = nl
    projections = read(pack, "projections.csv")
    totals = projections.groupby(["variant", "year"])["population"].sum()
    assert totals[("principal", 2041)] == 339_623
    published = pd.read_csv(DATA / "nrs_popproj_2016based_all_variants_age_groups_councils_scotland.csv")
    published = published[(published["area"] == "North Lanarkshire") & (published["year"] >= 2020)]
    expected = published.assign(variant=published["variant"].map(variant_code)).groupby(
        ["variant", "year"])["population"].sum()
    assert totals.sort_index().equals(expected.sort_index())
    assert projections["year"].min() == 2020 and set(projections["geography"]) == {"North Lanarkshire HSCP"}
    assert set(projections.loc[projections["variant"] == "principal", "method"]) == {"published"}
    assert set(projections.loc[projections["variant"] != "principal", "method"]) == {"apportioned_age_sex"}
    assert any("2016" in w and "2020" in w for w in report.warnings)


@needs_data
def test_communities_and_need_indicators_are_complete(nl):
    pack, _ = nl
    communities = read(pack, "communities.csv")
    assert set(communities["locality"]) == NL_LOCALITIES | {"All"}
    carers = communities[communities["community"] == "Unpaid carers"].set_index("locality")["population"]
    assert carers["All"] == carers.drop("All").sum()
    need = read(pack, "need_indicators.csv")
    assert set(need["indicator"]) == {"dementia", "frailty", "falls", "sight_loss", "hearing_loss", "multimorbidity"}
    assert len(need) == 6 * 2 * len(AGE_BANDS)
    dementia = need[need["indicator"] == "dementia"].set_index(["sex", "age_band"])["rate"]
    assert (dementia[("M", "90+")], dementia[("F", "60-64")], dementia[("F", "0-4")]) == (0.330, 0.009, 0)


@needs_data
def test_the_pack_passes_the_build_checks(nl, tmp_path):
    build = pytest.importorskip("analytics.build")
    counts = build.build(nl[0], tmp_path / "store.duckdb")
    assert counts["areas"] == 447


@needs_data
def test_small_areas_add_up_to_the_published_projection_in_every_cell(nl, tmp_path):
    """The projections are 2016-based and the estimates mid-2020 (they differ by up to 18% in a cell: women 90+),
    so applying each band's growth to the estimates would not add up to the published figures; sharing the
    published figures by the estimates does, for every variant, year, sex and band."""
    from analytics.build import build
    from analytics.db import Store
    build(nl[0], tmp_path / "store.duckdb")
    parts = Store(tmp_path / "store.duckdb").cursor().execute(
        "SELECT variant, year, sex, age_band, sum(population) AS population FROM stg_area_projection GROUP BY ALL"
    ).df().set_index(["variant", "year", "sex", "age_band"])["population"]
    whole = read(nl[0], "projections.csv").set_index(["variant", "year", "sex", "age_band"])["population"]
    assert len(whole) == 8 * 22 * 2 * 19  # 8 variants × 2020–2041 × F, M × 19 bands
    assert np.allclose(parts.reindex(whole.index), whole.astype(float), rtol=1e-12, atol=1e-9)


@needs_data
def test_an_unknown_council_lists_the_real_names(tmp_path, capsys):
    args = nl_args(tmp_path / "pack")
    args[args.index("--council") + 1] = "Atlantis"
    assert main(args) == 2
    message = capsys.readouterr().err
    assert "'Atlantis' is not a council" in message
    assert "North Lanarkshire" in message and "Glasgow City" in message and "Na h-Eileanan Siar" in message
    assert not (tmp_path / "pack").exists()


@needs_data
def test_a_zone_missing_from_simd_is_named_and_nothing_is_written(tmp_path, capsys):
    simd = pd.read_csv(DATA / "simd2020v2_datazone_ranks_scotland.csv", dtype=str)
    simd[simd["datazone2011"] != "S01011400"].to_csv(tmp_path / "simd.csv", index=False)
    out = tmp_path / "pack"
    assert main(nl_args(out, simd=tmp_path / "simd.csv")) == 2
    message = capsys.readouterr().err
    assert "SIMD file simd.csv has no rows for 1: S01011400" in message
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["simd.csv"]  # no staging folder left behind


@needs_data
def test_a_failed_import_leaves_an_existing_pack_untouched(nl, tmp_path):
    out = tmp_path / "pack"
    out.mkdir()
    (out / "pack.toml").write_text('name = "old"\n')
    with pytest.raises(ScotlandImportError):
        run(parse_args(nl_args(out, population=tmp_path / "absent.csv")), Report(quiet=True))
    assert [p.name for p in out.iterdir()] == ["pack.toml"]


@needs_data
def test_a_repeated_import_gives_identical_files_and_keeps_the_ledger(nl):
    pack, _ = nl
    (pack / "priorities.csv").write_text("code,label\nP1,Prevention\n")  # the partnership's own records
    batch = pack / "ledger_batches" / "20250101T000000-lead"  # an upload, with its original file
    batch.mkdir(parents=True)
    (batch / "original.csv").write_text("Gender,Age\nWoman,47\n")
    before = {p.relative_to(pack): p.read_bytes() for p in pack.rglob("*") if p.is_file()}
    run(parse_args(nl_args(pack)), Report(quiet=True))  # replaces the pack in place
    after = {p.relative_to(pack): p.read_bytes() for p in pack.rglob("*") if p.is_file()}
    assert before.keys() == after.keys() and all(before[k] == after[k] for k in before)
    assert not [p for p in pack.parent.iterdir() if p.name.startswith(".")]


# --- detection rules, without the data -------------------------------------------------------------------

@pytest.mark.parametrize("label, span", [
    ("0", (0, 0)), ("90+", (90, None)), ("age_0_4", (0, 4)), ("age_90plus", (90, None)), ("0 to 15", (0, 15)),
    ("75 and over", (75, None)), ("Age 45", (45, 45)), ("16-24", (16, 24)), ("total_population", None),
    ("All ages", None), ("datazone2011", None)])
def test_age_labels(label, span):
    assert ages.parse_age(label) == span


def test_the_finest_partition_drops_summary_columns_and_opens_the_last_age():
    labels = {f"age_{a}_{a + 4}": (a, a + 4) for a in range(0, 90, 5)} | {"age_0_15": (0, 15), "age_90": (90, 90),
                                                                          "age_65plus": (65, None)}
    chosen = ages.partition(labels, "test")
    assert "age_0_15" not in chosen and "age_65plus" not in chosen and chosen["age_90"] == (90, None)


def test_apportioned_cells_are_whole_and_keep_each_years_total():
    weights = pd.DataFrame(np.ones((2, ages.TOP_AGE + 1)), index=["F", "M"], columns=ages.AGES)
    shares = apportion.shares({"16 to 24": (16, 24)}, weights)
    got = shares[shares["sex"] == "All"].groupby("age_band")["share"].sum()
    assert got["15-19"] == pytest.approx(4 / 9) and got["20-24"] == pytest.approx(5 / 9)
    cells = pd.DataFrame({"year": 2030, "sex": ["F", "M", "F"], "age_band": ["0-4", "0-4", "5-9"],
                          "population": [1.4, 1.4, 1.2], "method": "apportioned_age"})
    assert apportion.whole_numbers(cells)["population"].sum() == 4


def test_a_two_column_lookup_is_detected_whatever_its_names(tmp_path):
    (tmp_path / "lookup.csv").write_text("zone,area\nS01011357,Wishaw\nS01011358,Wishaw\nS01011359,Motherwell\n")
    lookup, _ = read_localities(tmp_path / "lookup.csv")
    assert dict(zip(lookup["area_code"], lookup["locality"]))["S01011359"] == "Motherwell"


@pytest.mark.parametrize("texts, year", [
    (["Population by 2011 Data Zone area, mid-2020"], 2020), (["sape2020_datazone_age_bands_sex_scotland"], 2020),
    (["sape-2021-datazone2011"], 2021), (["datazone2011_lookup"], None)])
def test_the_estimates_year_is_read_from_titles_and_file_names(texts, year):
    assert year_from_text(texts) == year


def test_a_workbook_with_title_rows_and_a_sheet_per_sex_is_read(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet, count in (("Females", 2), ("Males", 3)):
        rows = book.create_sheet(sheet)
        rows.append(["Estimated population by single year of age, 2011 Data Zones, mid-2020"])
        rows.append([])
        rows.append(["DataZone2011Code", "Total population"] + [f"Age {a}" for a in range(90)] + ["Age 90+"])
        rows.append(["S01011357", count * 91] + [count] * 91)
    book.save(tmp_path / "sape.xlsx")
    estimates = read_estimates(tmp_path / "sape.xlsx", Report(quiet=True))
    assert estimates.single_years and estimates.single.loc[("S01011357", "M")].sum() == 273
    assert base_year(estimates, None, tmp_path / "sape.xlsx") == 2020


def test_variant_names_are_normalised():
    assert [variant_code(v) for v in ("Principal", "High fertility", "Low migration variant")] == [
        "principal", "high_fertility", "low_migration"]


# --- another council, from the Scotland-wide files -------------------------------------------------------

def _squares(zones: pd.DataFrame) -> dict:
    """Stand-in boundaries (the shared folder has real ones for North Lanarkshire only): one small square per
    data zone, in rows, with the published code and name as properties."""
    features = []
    for i, zone in enumerate(zones.itertuples(index=False)):
        x, y = -3.8 + (i % 9) * 0.01, 56.1 + (i // 9) * 0.01
        ring = [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {"datazone2011": zone.datazone2011, "datazone2011_name": zone.datazone2011_name}})
    return {"type": "FeatureCollection", "features": features}


@needs_data
def test_the_same_command_imports_another_council(tmp_path, monkeypatch):
    """Clackmannanshire from the Scotland-wide SIMD, five-year-band estimates, all-council projections and
    lookup, with stand-in squares for boundaries and a two-column locality lookup: the pack has the council's
    72 data zones, the published mid-2020 population and the published 2041 principal total, and the
    dashboard's home page runs on it."""
    import json

    from streamlit.testing.v1 import AppTest

    lookup = pd.read_csv(DATA / "datazone2011_geography_lookup_scotland.csv")
    zones = lookup[lookup["council_area_name"] == "Clackmannanshire"].sort_values("datazone2011")
    (tmp_path / "zones.geojson").write_text(json.dumps(_squares(zones)))
    halves = {iz: ("West (test)" if i % 2 else "East (test)")
              for i, iz in enumerate(sorted(zones["intzone2011"].unique()))}
    pd.DataFrame({"DataZone": zones["datazone2011"], "HSCPLocality": zones["intzone2011"].map(halves)}).to_csv(
        tmp_path / "localities.csv", index=False)
    out = tmp_path / "clackmannanshire"
    run(parse_args(["--council", "Clackmannanshire", "--out", str(out),
                    "--boundaries", str(tmp_path / "zones.geojson"),
                    "--simd", str(DATA / "simd2020v2_datazone_ranks_scotland.csv"),
                    "--population", str(DATA / "sape2020_datazone_age_bands_sex_scotland.csv"),
                    "--projections", str(DATA / "nrs_popproj_2016based_all_variants_age_groups_councils_scotland.csv"),
                    "--localities", str(tmp_path / "localities.csv"),
                    "--geography-lookup", str(DATA / "datazone2011_geography_lookup_scotland.csv")]),
        Report(quiet=True))

    population = read(out, "population.csv")
    assert population["area_code"].nunique() == len(zones) == 72
    sape = pd.read_csv(DATA / "sape2020_datazone_age_bands_sex_scotland.csv")
    published = sape[sape["datazone2011"].isin(zones["datazone2011"]) & (sape["sex"] == "All")]["total_population"]
    assert population["population"].sum() == published.sum()
    projections = pd.read_csv(DATA / "nrs_popproj_2016based_all_variants_age_groups_councils_scotland.csv")
    principal = projections[(projections["area"] == "Clackmannanshire") & (projections["variant"] == "Principal")
                            & (projections["year"] == 2041)]["population"].sum()
    pack = read(out, "projections.csv")
    assert pack[(pack["variant"] == "principal") & (pack["year"] == 2041)]["population"].sum() == pytest.approx(
        principal)
    assert set(read(out, "deprivation.csv")["area_code"]) == set(zones["datazone2011"])

    monkeypatch.setenv("REACH_PACK", str(out))
    monkeypatch.setenv("REACH_DB", str(tmp_path / "store.duckdb"))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "dashboard.py"), default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.metric[0].value == f"{published.sum():,.0f}"


# --- census community denominators (Census 2022 files) ----------------------------------------------------

@needs_data
def test_census_2022_denominators_replace_the_national_shares_per_locality(tmp_path):
    """Census 2022 per data zone: minority ethnic (non-white, and the wider all-but-White-Scottish-and-Other-White-
    British), Gypsy/Travellers and disabled people per locality are the census share applied to mid-2020 residents,
    sum to the partnership, and the store's community denominators (read by the reach pages) are these."""
    ethnic = DATA / "census2022_uv201_ethnic_group_datazone2011_north_lanarkshire.csv"
    disability = DATA / "census2022_disability_datazone2011_north_lanarkshire.csv"
    out = tmp_path / "nl"
    report = Report(quiet=True)
    run(parse_args(nl_args(out) + ["--census", str(ethnic), "--census", str(disability)]), report)
    communities = pd.read_csv(out / "communities.csv")
    areas = pd.read_json(out / "areas.geojson")["features"].map(lambda f: f["properties"]).apply(pd.Series)
    locality = areas.set_index("area_code")["locality"]
    residents = read(out, "population.csv").groupby("area_code")["population"].sum().groupby(locality).sum()
    assert residents.sum() == 341_140

    def expected(counts: pd.Series, totals: pd.Series) -> pd.Series:
        """Per locality: the census share of its residents × its mid-2020 residents (worked from the files)."""
        return counts.groupby(locality).sum() / totals.groupby(locality).sum() * residents

    published = pd.read_csv(disability)
    assert published.groupby("dz11_code")["total_residents"].first().sum() == 340_533
    limited = published[published["disability"].str.contains("limited a (?:lot|little)")].groupby("dz11_code")["n"].sum()
    totals = published.groupby("dz11_code")["total_residents"].first()
    groups = pd.read_csv(ethnic).dropna(subset=["count"]).pivot_table(index="dz11_code", columns="ethnic_group",
                                                                      values="count", aggfunc="sum")
    top = groups[[c for c in groups.columns if c.endswith("Total")] + ["Mixed or multiple ethnic group"]].sum(axis=1)
    for name, counts, base in (
            ("People with a limiting long-term health problem or disability", limited, totals),
            ("Minority ethnic (non-white)", top - groups["White: Total"], top),
            ("Minority ethnic (incl. white minorities)",
             top - groups["White: White Scottish"] - groups["White: Other White British"], top)):
        rows = communities[communities["community"] == name].set_index("locality")
        assert set(rows.index) == NL_LOCALITIES | {"All"}
        want = expected(counts, base)
        assert np.allclose(rows["population"].drop("All").sort_index(), want.sort_index(), atol=0.5)
        assert rows.loc["All", "population"] == rows["population"].drop("All").sum()
        assert (rows["population_low"] < rows["population"]).all() and (rows["population"] < rows["population_high"]).all()
        assert rows.loc["All", "source"].startswith("NRS Scotland's Census 2022")
    gypsy = communities[communities["community"] == "Gypsy/Travellers"].set_index("locality")
    assert pd.isna(gypsy.loc["All", "target_min"]) and gypsy.loc["All", "population"] > 0
    notes = tomllib.loads((out / "pack.toml").read_text())["notes"]
    assert any("every group except White Scottish and Other White British" in n and "perturbation" in n for n in notes)
    from analytics.build import build
    from analytics.db import Store
    build(out, tmp_path / "store.duckdb")
    stored = Store(tmp_path / "store.duckdb").query("community_denominators", locality="Coatbridge")
    assert stored.set_index("community").loc["Minority ethnic (non-white)", "population"] == \
        communities.set_index(["community", "locality"]).loc[("Minority ethnic (non-white)", "Coatbridge"), "population"]


@needs_data
def test_national_default_shares_carry_a_wide_range(nl):
    communities = read(nl[0], "communities.csv")
    carers = communities[communities["community"] == "Unpaid carers"].set_index("locality")
    assert (carers["population_low"] * 2 <= carers["population"] + 1).all()
    assert (carers["population_high"] >= 2 * carers["population"] - 1).all()
