"""The English open data importer, on the real published files in ../shared/data/england-open/.

The Gloucestershire pack is built once per module (about 3 s). Its checks use the figures the data folder's
README states (373 LSOAs 2011, six districts with their counts, mid-2020 persons 640,650, 12 LSOAs in IMD 2019's
most deprived decile, census totals 645,096 and 108,410) and values worked by hand from the published files.
No projection file is published there, so a file in the ONS SNPP layout is written by the test: each district's
mid-2020 persons by age grown by 1% of the 2020 figure a year, so every total is known in advance.
"""
from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.config import AGE_BANDS
from analytics.importers import census
from analytics.importers.england import main, parse_args, run
from analytics.importers.england_areas import generation_of
from analytics.importers.england_generations import Changes, convert_counts, convert_ranks
from analytics.importers.england_projections import parse_spec
from analytics.importers.errors import PackImportError, Report

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "england-open"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"the published English data are not at {DATA}")
DISTRICTS = {"Cheltenham": 75, "Cotswold": 51, "Forest of Dean": 50, "Gloucester": 78, "Stroud": 69, "Tewkesbury": 50}
SAPE = "ons_sape_mid2020_lsoa2011_single_year_persons_gloucestershire.csv"
AGES = [str(a) for a in range(90)] + ["90+"]


def snpp_file(folder: Path) -> Path:
    """'2018 SNPP Population persons.csv' in the ONS layout: district persons by age, 2018–2043, growing by 1% of
    the mid-2020 figure a year (so 2020 = the estimates and 2030 = 1.1 × the estimates)."""
    sape = pd.read_csv(DATA / SAPE)
    lookup = pd.read_csv(DATA / "lsoa2011_lookup_gloucestershire.csv")
    joined = sape.merge(lookup, left_on="LSOA Code", right_on="LSOA11_CODE")
    rows = []
    for (code, name), ages in joined.groupby(["LTLA22_CODE", "LTLA22_NAME"])[AGES].sum().iterrows():
        for label, value in [*((a if a != "90+" else "90 and over", ages[a]) for a in AGES),
                             ("All ages", ages.sum())]:
            rows.append({"AREA_CODE": code, "AREA_NAME": name, "COMPONENT": "Population", "SEX": "persons",
                         "AGE_GROUP": label, **{str(y): value * (1 + 0.01 * (y - 2020)) for y in range(2018, 2044)}})
    path = folder / "2018 SNPP Population persons.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def glos_args(out: Path, projections: Path | None, *extra: str, **replace: Path) -> list[str]:
    files = {"lookup": DATA / "lsoa2011_lookup_gloucestershire.csv",
             "boundaries": DATA / "lsoa2011_boundaries_gloucestershire.geojson",
             "imd": DATA / "imd2019_lsoa2011_england.csv", "population": DATA / SAPE,
             "sex-split": DATA / "census2021_sex_by_broad_age_ltla_gloucestershire.csv",
             "lsoa-changes": DATA / "lsoa2011_to_lsoa2021_gloucestershire.csv", **replace}
    args = ["--icb", "NHS Gloucestershire", "--out", str(out),
            "--census", str(DATA / "census2021_ts021_ethnic_group_lsoa2021_gloucestershire.csv"),
            "--census", str(DATA / "census2021_ts038_disability_lsoa2021_gloucestershire.csv"), *extra]
    args += ["--projections", str(projections)] if projections else []
    for option, path in files.items():
        args += [f"--{option}", str(path)]
    return args


@pytest.fixture(scope="module")
def glos(tmp_path_factory) -> tuple[Path, Report]:
    if not DATA.is_dir():
        pytest.skip(f"the published English data are not at {DATA}")
    folder = tmp_path_factory.mktemp("england")
    report = Report(stream=io.StringIO())
    run(parse_args(glos_args(folder / "gloucestershire", snpp_file(folder))), report)
    return folder / "gloucestershire", report


def read(pack: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(pack / name, dtype={"area_code": str}, keep_default_na=False)


def areas_of(pack: Path) -> pd.DataFrame:
    return pd.DataFrame([f["properties"] for f in json.loads((pack / "areas.geojson").read_text())["features"]])


@needs_data
def test_the_icb_has_373_lsoas_in_six_district_localities_and_75_msoas(glos):
    areas = areas_of(glos[0])
    assert len(areas) == 373 and areas["area_code"].is_unique
    assert areas["locality"].value_counts().to_dict() == DISTRICTS
    assert areas["neighbourhood_code"].str.match(r"^E02\d{6}$").all() and areas["neighbourhood_code"].nunique() == 75
    assert areas.set_index("area_code").loc["E01022100", "area_name"] == "Cheltenham 008A"
    meta = tomllib.loads((glos[0] / "pack.toml").read_text())
    assert (meta["country"], meta["area_label"], meta["neighbourhood_label"], meta["deprivation_index"],
            meta["base_year"]) == ("england", "LSOA", "MSOA", "IMD 2019", 2020)


@needs_data
def test_population_is_the_published_mid_2020_persons_split_by_the_census_district_ratio(glos):
    population = read(glos[0], "population.csv")
    assert population["population"].sum() == 640_650
    assert len(population) == 373 * 2 * len(AGE_BANDS) and set(population["method"]) == {"apportioned_sex"}
    sape = pd.read_csv(DATA / SAPE).set_index("LSOA Code")
    persons = population.groupby("area_code")["population"].sum()
    assert (persons == sape.loc[persons.index, "All Ages"]).all()  # every LSOA's persons as published
    # By hand: E01022100 (Cheltenham) aged 0-4 = 17+15+17+19+13 = 81 persons; Cheltenham's Census 2021 younger
    # females 10,641 and males 10,784, so females 81 × 10,641 / 21,425 = 40.2 → 40, males 41.
    cell = population[(population["area_code"] == "E01022100") & (population["age_band"] == "0-4")]
    assert cell.set_index("sex")["population"].to_dict() == {"F": 40, "M": 41}


@needs_data
def test_imd_2019_ranks_are_the_published_ones_with_twelve_in_the_most_deprived_decile(glos):
    ours = read(glos[0], "deprivation.csv").set_index("area_code")
    published = pd.read_csv(DATA / "imd2019_lsoa2011_england.csv").set_index("LSOA code (2011)").loc[ours.index]
    assert (ours["decile"] == 1).sum() == 12
    assert (ours["rank"] == published["IMD_rank"]).all() and (ours["decile"] == published["IMD_decile"]).all()
    assert (ours["quintile"] == np.ceil(published["IMD_decile"] / 2)).all()
    assert (ours["housing_rank"] == published["Housing_and_Access_rank"]).all()
    assert (ours["health_rank"] == published["Health_rank"]).all()


@needs_data
def test_census_denominators_are_the_census_shares_of_each_district(glos):
    """Disabled people: Census 2021 108,410 of 645,103 residents in the disability table; applied to mid-2020
    residents per district. Districts are unchanged 2021 → 2022, so the census LSOAs 2021 of a district are its
    people whatever the LSOA generation."""
    pack, report = glos
    communities = read(pack, "communities.csv")
    disability = pd.read_csv(DATA / "census2021_ts038_disability_lsoa2021_gloucestershire.csv")
    assert disability.loc[disability["disability"].str.startswith("Disabled"), "n"].sum() == 108_410
    ethnic = pd.read_csv(DATA / "census2021_ts021_ethnic_group_lsoa2021_gloucestershire.csv")
    assert ethnic.groupby("lsoa21_code")["total_residents"].first().sum() == 645_096
    lookup = pd.read_csv(DATA / "lsoa2021_lookup_gloucestershire.csv").set_index("LSOA21_CODE")["LTLA24_NAME"]
    residents = read(pack, "population.csv").merge(areas_of(pack), on="area_code").groupby("locality")["population"].sum()
    for name, frame, test in (("Disabled people (Equality Act)", disability, lambda s: s.str.startswith("Disabled")),
                              ("Minority ethnic (non-white)", ethnic, lambda s: s != "White")):
        rows = communities[communities["community"] == name].set_index("locality")
        frame = frame.assign(district=frame["lsoa21_code"].map(lookup))
        for district in DISTRICTS:
            part = frame[frame["district"] == district]
            share = part.loc[test(part.iloc[:, 2] if name.startswith("Minority") else part["disability"]), "n"].sum() \
                / part.groupby("lsoa21_code")["total_residents"].first().sum()
            row = rows.loc[district]
            assert int(row["population"]) == pytest.approx(share * residents[district], abs=1)
            assert int(row["population_low"]) < int(row["population"]) < int(row["population_high"])
        assert int(rows.loc["All", "population"]) == sum(int(rows.loc[d, "population"]) for d in DISTRICTS)
    assert communities.loc[communities["community"] == "Unpaid carers", "source"].str.contains("8.9%").all()
    assert any("five-group table cannot separate White minorities" in n for n in report.notes)
    assert "Gypsy/Travellers" in set(communities["community"])  # on its planning default: TS021 has 5 groups


@needs_data
def test_projections_are_the_sum_of_the_districts_and_each_district_its_own(glos):
    projections = read(glos[0], "projections.csv")
    totals = projections.groupby(["geography", "year"])["population"].sum()
    assert totals[("NHS Gloucestershire Integrated Care Board", 2020)] == 640_650
    assert totals[("NHS Gloucestershire Integrated Care Board", 2030)] == round(640_650 * 1.1)
    assert set(projections["geography"]) == {"NHS Gloucestershire Integrated Care Board", *DISTRICTS}
    assert projections["year"].min() == 2020 and set(projections["method"]) == {"apportioned_sex"}
    sape = pd.read_csv(DATA / SAPE)
    cotswold = sape[sape["LSOA Name"].str.startswith("Cotswold")]["All Ages"].sum()
    assert totals[("Cotswold", 2043)] == round(cotswold * 1.23)


@needs_data
def test_the_pack_builds_and_the_reach_pages_get_the_census_denominators(glos, tmp_path):
    from analytics.build import build
    from analytics.db import Store
    assert build(glos[0], tmp_path / "store.duckdb")["areas"] == 373
    rows = Store(tmp_path / "store.duckdb").query("community_denominators", locality="Gloucester")
    ours = read(glos[0], "communities.csv")
    expected = ours[(ours["locality"] == "Gloucester") & (ours["community"] == "Minority ethnic (non-white)")]
    got = rows.set_index("community").loc["Minority ethnic (non-white)", "population"]
    assert got == int(expected["population"].iloc[0])


@needs_data
def test_no_projection_file_stops_the_import_saying_what_to_give(tmp_path, capsys):
    out = tmp_path / "pack"
    assert main(glos_args(out, None)) == 2
    message = capsys.readouterr().err
    assert "No projection file was given" in message and "--projections" in message and "SNPP" in message
    assert not out.exists() and not list(tmp_path.iterdir())


@needs_data
def test_no_projections_holds_the_base_year_flat_and_says_so(tmp_path):
    report = Report(quiet=True)
    run(parse_args(glos_args(tmp_path / "pack", None, "--no-projections")), report)
    projections = read(tmp_path / "pack", "projections.csv")
    assert set(projections["method"]) == {"held_flat"} and projections["year"].max() == 2030
    assert (projections.groupby("year")["population"].sum() == 640_650).all()
    assert any("--no-projections" in w for w in report.warnings)
    assert any("held_flat" in n for n in tomllib.loads((tmp_path / "pack" / "pack.toml").read_text())["notes"])


@needs_data
def test_an_unknown_icb_lists_the_icbs_of_the_lookup(tmp_path, capsys):
    args = glos_args(tmp_path / "pack", None, "--no-projections")
    args[args.index("--icb") + 1] = "NHS Atlantis"
    assert main(args) == 2
    assert "'NHS Atlantis' is not a ICB" in capsys.readouterr().err.replace("an ICB", "a ICB")


@needs_data
def test_an_lsoa_missing_from_the_imd_is_named_and_nothing_is_written(tmp_path, capsys):
    imd = pd.read_csv(DATA / "imd2019_lsoa2011_england.csv", dtype=str)
    imd[imd["LSOA code (2011)"] != "E01022100"].to_csv(tmp_path / "imd2019.csv", index=False)
    out = tmp_path / "pack"
    assert main(glos_args(out, None, "--no-projections", imd=tmp_path / "imd2019.csv")) == 2
    assert "IMD file imd2019.csv has no rows for 1: E01022100" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["imd2019.csv"]


@needs_data
def test_a_repeated_import_gives_identical_files_and_keeps_the_ledger(glos):
    pack = glos[0]
    (pack / "priorities.csv").write_text("code,label\nP1,Prevention\n")
    (pack / ".cell_key").write_text("secret")  # the build's perturbation key: re-drawing it would undo protection
    batch = pack / "ledger_batches" / "20250101T000000-lead"
    batch.mkdir(parents=True)
    (batch / "original.csv").write_text("Gender,Age\nWoman,47\n")
    before = {p.relative_to(pack): p.read_bytes() for p in pack.rglob("*") if p.is_file()}
    folder = pack.parent
    run(parse_args(glos_args(pack, folder / "2018 SNPP Population persons.csv")), Report(quiet=True))
    after = {p.relative_to(pack): p.read_bytes() for p in pack.rglob("*") if p.is_file()}
    assert before.keys() == after.keys() and all(before[k] == after[k] for k in before)


@needs_data
def test_another_district_set_on_lsoa_2021_with_wards_imd_2025_and_a_locality_lookup(tmp_path):
    """Cheltenham and Tewkesbury from the same files, on LSOA 2021 (the estimates are moved from 2011), with
    wards, IMD 2025 and a two-column locality lookup: no code change."""
    lookup = pd.read_csv(DATA / "lsoa2021_lookup_gloucestershire.csv")
    chosen = lookup[lookup["LTLA24_NAME"].isin(["Cheltenham", "Tewkesbury"])]
    pd.DataFrame({"lsoa": chosen["LSOA21_CODE"], "pcn": np.where(chosen["WARD24_NAME"] < "M", "North PCN (test)",
                                                                  "South PCN (test)")}).to_csv(
        tmp_path / "pcns.csv", index=False)
    out = tmp_path / "pack"
    run(parse_args(["--district", "Cheltenham", "--district", "E07000083", "--out", str(out),
                    "--lookup", str(DATA / "lsoa2021_lookup_gloucestershire.csv"),
                    "--boundaries", str(DATA / "lsoa2021_boundaries_gloucestershire.geojson"),
                    "--imd", str(DATA / "imd2025_lsoa2021_england.csv"), "--population", str(DATA / SAPE),
                    "--sex-split", str(DATA / "census2021_sex_by_broad_age_ltla_gloucestershire.csv"),
                    "--lsoa-changes", str(DATA / "lsoa2011_to_lsoa2021_gloucestershire.csv"),
                    "--census", str(DATA / "census2021_ts038_disability_lsoa2021_gloucestershire.csv"),
                    "--localities", str(tmp_path / "pcns.csv"), "--neighbourhoods", "ward",
                    "--projections", str(snpp_file(tmp_path))]), Report(quiet=True))
    areas = areas_of(out)
    assert len(areas) == len(chosen) and set(areas["locality"]) == {"North PCN (test)", "South PCN (test)"}
    assert areas["neighbourhood_code"].str.match(r"^E05\d{6}$").all()
    sape = pd.read_csv(DATA / SAPE)
    published = sape[sape["LSOA Name"].str.match(r"^(Cheltenham|Tewkesbury) ")]["All Ages"].sum()
    assert read(out, "population.csv")["population"].sum() == pytest.approx(published, abs=3)  # rounding of splits
    ours = read(out, "deprivation.csv").set_index("area_code")
    imd = pd.read_csv(DATA / "imd2025_lsoa2021_england.csv").set_index("LSOA code (2021)").loc[ours.index]
    assert (ours["rank"] == imd["IMD_rank"]).all() and (ours["housing_rank"] == imd["Housing_and_Services_rank"]).all()
    assert set(read(out, "projections.csv")["geography"]) == {"Cheltenham and Tewkesbury"}
    assert tomllib.loads((out / "pack.toml").read_text())["neighbourhood_label"] == "ward"


# --- rules, without the data ---------------------------------------------------------------------------------

@pytest.mark.parametrize("header, year", [("LSOA11_CODE", 2011), ("lsoa21_code", 2021), ("LSOA code (2011)", 2011),
                                          ("LSOA21CD", 2021), ("LSOA Code", None)])
def test_the_lsoa_generation_is_read_from_headers(header, year):
    assert generation_of(header, set()) == year


def test_a_split_lsoa_shares_counts_by_weight_and_takes_the_mean_rank():
    """2011 A is split into 2021 A1 (300 residents) and A2 (100); 2011 B and C merge into 2021 D."""
    changes = Changes(pd.DataFrame({"lsoa11": ["A", "A", "B", "C"], "lsoa21": ["A1", "A2", "D", "D"],
                                    "change": ["S", "S", "M", "M"]}), Path("changes.csv"))
    counts = pd.DataFrame({"n": [80.0, 10.0, 5.0]}, index=["A", "B", "C"])
    moved = convert_counts(counts, changes, 2011, 2021, {"A1", "A2", "D"}, pd.Series({"A1": 300, "A2": 100}), "t")
    assert moved["n"].to_dict() == {"A1": 60.0, "A2": 20.0, "D": 15.0}
    ranks = pd.DataFrame({"rank": [100.0, 300.0, 7.0]}, index=["A1", "A2", "D"])
    back = convert_ranks(ranks, changes, 2021, 2011, {"A", "B", "C"}, "t")
    assert back["rank"].to_dict() == {"A": 200.0, "B": 7.0, "C": 7.0}
    with pytest.raises(PackImportError, match="has no row for the LSOA 2021 code"):
        convert_counts(counts, changes, 2011, 2021, {"Z"}, None, "t")


def test_projection_variants_are_named_before_the_file():
    assert parse_spec("high_migration=x.csv") == ("high_migration", Path("x.csv"))
    assert parse_spec("2018 SNPP Population persons.csv") == ("principal", Path("2018 SNPP Population persons.csv"))


def test_census_definitions_follow_what_each_table_allows():
    scotland = ["White: Total", "White: White Scottish", "White: Other White British", "White: Gypsy/ Traveller",
                "Other White", "Mixed or multiple ethnic group", "Asian, Asian Scottish or Asian British: Total"]
    found = census.definitions(scotland)
    assert found["non_white"] == (["White: Total"], True)
    assert found["white_minorities"][0] == ["White: White Scottish", "White: Other White British"]
    assert found["gypsy_traveller"] == (["White: Gypsy/ Traveller"], False)
    england = census.definitions(["Asian, Asian British or Asian Welsh", "White", "Other ethnic group"])
    assert set(england) == {"non_white"}
    disabled = census.definitions(["Disabled under the Equality Act", "Not disabled under the Equality Act"])
    assert disabled["disabled"] == (["Disabled under the Equality Act"], False)
    assert census._top_level(scotland + [census.TOTAL]) == ["White: Total", "Asian, Asian Scottish or Asian British: "
                                                            "Total", "Mixed or multiple ethnic group"]
