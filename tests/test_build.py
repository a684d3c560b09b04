"""The validator refuses each kind of broken input with a message a person can act on; builds are atomic."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from analytics import build as build_module
from analytics.build import build, ensure_store
from analytics.pack import load_pack
from analytics.schema import PackInvalid
from tests.packs import FILES, write_tiny_pack

ROOT = Path(__file__).resolve().parents[1]


def problems_for(tmp_path: Path, changes: dict[str, str | None]) -> list[str]:
    with pytest.raises(PackInvalid) as caught:
        load_pack(write_tiny_pack(tmp_path / "pack", changes))
    return [str(p) for p in caught.value.problems]


def replace(name: str, old: str, new: str) -> dict[str, str]:
    assert old in FILES[name], f"fixture text {old!r} not in {name}"
    return {name: FILES[name].replace(old, new, 1)}


def test_valid_tiny_pack_loads(tmp_path):
    pack = load_pack(write_tiny_pack(tmp_path))
    assert pack.localities == ["North", "South"]
    assert int(pack.tables["population"]["population"].sum()) == 1520


@pytest.mark.parametrize("changes, expected", [
    ({"population.csv": None}, "population.csv — the file is missing"),
    ({"pack.toml": None}, "pack.toml — the file is missing"),
    (replace("population.csv", "area_code,sex,age_band,population", "area_code,sex,age,population"),
     "population.csv, column 'age_band' — the column is missing; the file needs the columns: area_code, sex, "
     "age_band, population"),
    (replace("population.csv", "A1,F,0-4,10", "A1,F,0-4,ten"),
     "population.csv, row 2, column 'population': value 'ten' — expected a whole number of 0 or more"),
    (replace("population.csv", "A1,F,0-4,10", "A1,F,0-4,-3"),
     "population.csv, row 2, column 'population': value '-3' — expected a whole number of 0 or more"),
    (replace("population.csv", "A1,F,0-4,10", "A1,Female,0-4,10"),
     "population.csv, row 2, column 'sex': value 'Female' — expected one of: F, M"),
    (replace("population.csv", "A1,F,0-4,10", "A9,F,0-4,10"),
     "population.csv, row 2, column 'area_code': value 'A9' — expected a known area_code from areas.geojson"),
    (replace("communities.csv", "Carers,interest,South", "Carers,interest,Southside"),
     "communities.csv, row 3, column 'locality': value 'Southside' — expected a known locality: All, North, South"),
    (replace("activities.csv", "North,A1,in_person,8,Carers", "North,A1,in_person,8,Carer"),
     "activities.csv, row 3, column 'communities': value 'Carer' — expected a known community from communities.csv"),
    (replace("responses.csv", "R2,X1", "R1,X1"),
     "responses.csv, row 3, column 'response_id': value 'R1' — duplicate response_id: each must appear once"),
    (replace("responses.csv", "R3,X1,2025-01-04", "R3,X1,04/01/2025"),
     "responses.csv, row 4, column 'submitted_on': value '04/01/2025' — expected a date written YYYY-MM-DD"),
    (replace("activities.csv", "2025-01-01,2025-02-28", "2025-02-28,2025-01-01"),
     "activities.csv, row 2, column 'end_date': value '2025-01-01' — end_date is before start_date"),
    (replace("responses.csv", "R4,X1", "R4,X7"),
     "responses.csv, row 5, column 'activity_id': value 'X7' — expected a known activity_id from activities.csv"),
    (replace("responses.csv", "Carers,P2\nR5", "Carers,P9\nR5"),
     "responses.csv, row 5, column 'priorities': value 'P9' — expected a known priority code from priorities.csv"),
    (replace("deprivation.csv", "A4,5000,10,5", "A4,5000,10,6"),
     "deprivation.csv, row 5, column 'quintile': value '6' — expected a known quintile (1 = most deprived)"),
    (replace("deprivation.csv", "A4,5000,10,5\n", ""),
     "deprivation.csv, column 'area_code' — 1 area(s) in areas.geojson have no rows here: A4"),
    (replace("pack.toml", "base_year = 2024", 'base_year = "2024"'),
     "pack.toml, column 'base_year': value '2024' — expected a whole number, without quotes"),
    (replace("areas.geojson", '"locality": "South"', '"locality": ""'),
     "areas.geojson, row 3, column 'locality' — the feature needs this property (not blank)"),
    (replace("projections.csv", "Tiny HSCP,principal,2024,F,0-4,40", "Tiny HSCP,principal,2024,F,0-4,40\n"
                                                                      "Tiny HSCP,principal,2024,F,0-4,41"),
     "duplicate geography + variant + year + sex + age_band"),
])
def test_each_kind_of_error_is_named(tmp_path, changes, expected):
    messages = problems_for(tmp_path, changes)
    assert any(expected in m for m in messages), messages


def test_every_problem_is_listed_not_just_the_first(tmp_path):
    changes = {**replace("population.csv", "A1,F,0-4,10", "A1,F,0-4,x"),
               **replace("responses.csv", "R4,X1", "R4,X7")}
    messages = problems_for(tmp_path, changes)
    assert len(messages) == 2, messages


def test_non_utf8_file_is_refused_with_advice(tmp_path):
    pack = write_tiny_pack(tmp_path / "pack")
    (pack / "priorities.csv").write_bytes("code,label\nP1,Pr\xe9vention\n".encode("latin-1"))
    with pytest.raises(PackInvalid, match="priorities.csv — is not UTF-8 text .* save it as 'CSV UTF-8'"):
        load_pack(pack)


def tables(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}


def test_build_twice_gives_the_same_store(tmp_path):
    pack = write_tiny_pack(tmp_path / "pack")
    build(pack, tmp_path / "a.duckdb")
    build(pack, tmp_path / "b.duckdb")
    first, second = tables(tmp_path / "a.duckdb"), tables(tmp_path / "b.duckdb")
    assert first == second
    assert len(first["responses"]) == 8 and len(first["response_communities"]) == 4


def test_failure_half_way_leaves_previous_store_intact(tmp_path, monkeypatch):
    pack = write_tiny_pack(tmp_path / "pack")
    db = tmp_path / "store.duckdb"
    build(pack, db)
    before = tables(db)
    (pack / "responses.csv").write_text(FILES["responses.csv"] + "R9,X1,2025-01-08,A1,F,65-69,,\n")
    real_write = build_module._write_table

    def fail_on_responses(con, name, frame):
        if name == "responses":
            raise OSError("disk full (injected)")
        real_write(con, name, frame)

    monkeypatch.setattr(build_module, "_write_table", fail_on_responses)
    with pytest.raises(OSError, match="injected"):
        build(pack, db)
    assert tables(db) == before
    assert [p.name for p in tmp_path.iterdir() if "building" in p.name] == []


def test_invalid_pack_exits_2_and_leaves_store_untouched(tmp_path):
    good = write_tiny_pack(tmp_path / "good")
    db = tmp_path / "store.duckdb"
    build(good, db)
    before = db.read_bytes()
    bad = write_tiny_pack(tmp_path / "bad", replace("population.csv", "A1,F,0-4,10", "A1,F,0-4,-1"))
    run = subprocess.run([sys.executable, "-m", "analytics.build", "--pack", str(bad), "--db", str(db)],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2
    assert "population.csv, row 2, column 'population': value '-1'" in run.stderr
    assert "is unchanged" in run.stderr
    assert db.read_bytes() == before


def test_ensure_store_rebuilds_only_when_the_pack_changes(tmp_path):
    pack = write_tiny_pack(tmp_path / "pack")
    db = tmp_path / "store.duckdb"
    assert ensure_store(pack, db) is True
    assert ensure_store(pack, db) is False
    (pack / "priorities.csv").write_text("code,label\nP1,Prevention\nP2,Carers\nP3,Digital\n")
    assert ensure_store(pack, db) is True
    assert len(tables(db)["priorities"]) == 3


def test_the_build_prints_its_notes_and_keeps_them_after_the_packs_own(tmp_path):
    # The tiny pack's gradient (1.5, 1.2, 1.0, 0.9, 0.8 over 380 residents in each of Q1, Q2, Q4, Q5) has a
    # residents-weighted mean of 4.4 / 4 = 1.1, so the build normalises it and says so.
    pack = write_tiny_pack(tmp_path / "pack", replace("pack.toml", "synthetic = true", 'synthetic = true\n'
                                                       'notes = ["From the importer."]'))
    db = tmp_path / "store.duckdb"
    run = subprocess.run([sys.executable, "-m", "analytics.build", "--pack", str(pack), "--db", str(db)],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    said = "Note: The need gradient for 'dementia' (quintiles 1-5: 1.5, 1.2, 1, 0.9, 0.8) had a mean of 1.1,"
    assert said in run.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        notes = con.execute("SELECT value FROM meta WHERE key = 'notes'").fetchone()[0].splitlines()
    assert notes[0] == "From the importer." and notes[1].startswith("The need gradient for 'dementia'")
    assert "(1.36, 1.09, 0.909, 0.818, 0.727)" in notes[1]  # 1.5/1.1, 1.2/1.1, 1/1.1, 0.9/1.1, 0.8/1.1
