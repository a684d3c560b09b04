"""Uploads: every rule refuses its broken file (tests/fixtures_upload/) with a message a person can act on;
awkward but honest files (other encodings, delimiters, spreadsheet dates) are read; an engagement lead signed in
on the page can add a survey export with unfamiliar headers and the home page's figures change."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import bcrypt
import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import auth, ledger, mapping, reach, upload
from analytics.build import ensure_store
from analytics.db import Store
from analytics.export import neutralised, safe_csv, screen_table
from tests.packs import write_tiny_pack

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures_upload")
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def pack_env(tmp_path_factory) -> tuple[Path, upload.Lookups]:
    """A tiny pack and its store, only read by these checks (ledger.check writes nothing into the pack)."""
    folder = tmp_path_factory.mktemp("upload")
    pack = write_tiny_pack(folder / "pack")
    ensure_store(pack, folder / "store.duckdb")
    store = Store(folder / "store.duckdb")
    try:
        return pack, upload.lookups(store)
    finally:
        store.close()


def prepared_from(data: bytes, kind: str, lookups: upload.Lookups, fixed: dict | None = None) -> upload.Prepared:
    raw = upload.read_upload(data)
    return upload.prepare(raw, kind, mapping.guess_columns(list(raw.frame.columns), kind), lookups, fixed)


def problems(name: str, kind: str, pack_env, fixed: dict | None = None) -> list[str]:
    pack, lookups = pack_env
    prepared = prepared_from((FIXTURES / name).read_bytes(), kind, lookups, fixed)
    return [str(p) for p in ledger.check(pack, prepared)]


@pytest.mark.parametrize("name, kind, expected", [
    ("bad_method.csv", "activities",
     "uploaded file, row 2, column 'method': value 'Knitting circle' — expected one of: online_survey, paper_survey, "
     "focus_group, interview, meeting, presentation, event, other"),
    ("unknown_activity.csv", "responses",
     "uploaded file, row 2, column 'Activity → activity_id': value 'X7' — expected a known activity_id from "
     "activities.csv: X1, X2"),
    ("duplicate_in_file.csv", "responses",
     "uploaded file, row 3, column 'Response ID → response_id': value 'R100' — duplicate response_id: each must "
     "appear once (remove the repeated row)"),
    ("duplicate_in_ledger.csv", "responses",
     "uploaded file, row 2, column 'Response ID → response_id': value 'R1' — duplicate response_id: already in the "
     "ledger (responses.csv, row 2); each must appear once"),
    ("bad_date.csv", "responses",
     "uploaded file, row 2, column 'Date → submitted_on': value 'next Tuesday' — expected a date such as "
     "2025-03-31 or 31/03/2025 (day first), a spreadsheet date or a timestamp"),
    ("age_out_of_range.csv", "responses",
     "uploaded file, row 2, column 'Age → age_band': value '130' — expected an age of 0 to 120 in whole years, a "
     "five-year band such as 45-49, or blank"),
    ("age_straddles_bands.csv", "responses",
     "uploaded file, row 2, column 'Age → age_band': value '45-54' — the age range 45-54 spans more than one "
     "five-year band (45-49 to 50-54)"),
    ("unknown_area.csv", "responses",
     "uploaded file, row 2, column 'Data zone → area_code': value 'Atlantis' — expected a known area_code from "
     "areas.geojson: A1, A2, A3, A4"),
    ("postcode.csv", "responses",
     "uploaded file, row 2, column 'Postcode → area_code': value 'EH1 1AA' — looks like a postcode: a postcode "
     "cannot be turned into a data zone without a postcode lookup file"),
    ("formula_in_id.csv", "responses",
     "uploaded file, row 2, column 'Response ID → response_id': value '=1+2' — looks like a spreadsheet formula; "
     "an id or code must be plain text"),
    ("missing_date_column.csv", "responses",
     "uploaded file, column 'submitted_on' — no column of the file is matched to this field, which the ledger needs "
     "in every row"),
])
def test_each_rule_names_the_row_column_and_what_is_accepted(pack_env, name, kind, expected):
    found = problems(name, kind, pack_env)
    assert any(expected in m for m in found), found
    assert len(found) == 1, found  # one cell, one problem: never the same cell twice in other words


@pytest.mark.parametrize("name, expected", [
    ("empty.csv", "The file is empty."),
    ("header_only.csv", "The file has a header row but no data rows."),
    ("binary.csv", "The file is not a spreadsheet or text file; upload a .csv or .xlsx file."),
    ("old_excel.xls", "This is an old-style Excel (.xls) or password-protected workbook"),
    ("ragged.csv", "Row(s) 2 have more cells than the header row has columns (3)"),
])
def test_unreadable_files_are_refused_with_a_reason(name, expected):
    with pytest.raises(upload.UploadRefused) as caught:
        upload.read_upload((FIXTURES / name).read_bytes())
    assert expected in str(caught.value)


def test_windows_text_is_read_with_a_notice(pack_env):
    raw = upload.read_upload((FIXTURES / "cp1252.csv").read_bytes())
    assert raw.frame.loc[0, "title"] == "Café drop-in"
    assert any("not UTF-8, so it was read as Windows-1252" in n for n in raw.notices)


def test_excel_unicode_text_utf16_tabs_is_read(pack_env):
    pack, lookups = pack_env
    raw = upload.read_upload((FIXTURES / "excel_unicode_text.txt").read_bytes())
    assert list(raw.frame.columns) == ["Response ID", "Activity", "Date", "Gender", "Age"]
    assert any("separated by tabs" in n for n in raw.notices)
    prepared = upload.prepare(raw, "responses", mapping.guess_columns(list(raw.frame.columns), "responses"), lookups)
    assert ledger.check(pack, prepared) == []
    assert prepared.frame.iloc[0][["submitted_on", "sex", "age_band"]].tolist() == ["2025-01-10", "F", "45-49"]


def test_utf8_with_byte_order_mark_keeps_clean_headers():
    raw = upload.read_upload(b"\xef\xbb\xbfResponse ID,Date\nR1,2025-01-01\n")
    assert list(raw.frame.columns) == ["Response ID", "Date"] and raw.notices == []


def test_semicolon_delimited_file_is_read(pack_env):
    pack, lookups = pack_env
    prepared = prepared_from((FIXTURES / "semicolon.csv").read_bytes(), "responses", lookups)
    assert any("separated by semicolons" in n for n in prepared.notices)
    assert ledger.check(pack, prepared) == []
    assert prepared.frame["submitted_on"].tolist() == ["2025-01-10", "2025-01-11"]
    assert prepared.frame["sex"].tolist() == ["F", "M"]


def test_formula_in_free_text_is_kept_raw_and_neutralised_on_the_way_out(tmp_path):
    pack = write_tiny_pack(tmp_path / "pack")
    db = tmp_path / "store.duckdb"
    ensure_store(pack, db)
    data = (FIXTURES / "formula_in_text.csv").read_bytes()
    store = Store(db)
    prepared = prepared_from(data, "activities", upload.lookups(store))
    store.close()
    assert any("begin with =, +, -, @" in n for n in prepared.notices)
    assert ledger.check(pack, prepared) == []
    batch = ledger.commit(pack, db, prepared, data, original_name="sheet.csv", uploaded_by="t", partner="HSCP")
    stored = (pack / "ledger_batches" / batch["batch_id"] / "activities.csv").read_text(encoding="utf-8")
    assert '=HYPERLINK(""http://example.com""' in stored  # the ledger holds the text as given
    assert b"'=HYPERLINK" in safe_csv(prepared.frame)  # every download neutralises it
    # and so does every table on screen, whose own toolbar offers a CSV of what it shows
    shown = screen_table(prepared.frame).to_pandas()
    assert shown["title"].str.startswith("'=HYPERLINK").any() and not shown["title"].str.startswith("=").any()


def test_screen_table_neutralises_every_text_cell_and_header_as_downloads_do():
    frame = pd.DataFrame({"=h": ["=1", "a", None, "-x"], "n": [-1.0, None, 3.0, 4.0],
                          "kind": pd.Categorical(["@a", "b", "b", "+c"]), "o": ["x", "\tq", "ok", "\rr"]})
    shown = screen_table(frame).to_pandas()
    assert list(shown.columns) == ["'=h", "n", "kind", "o"]
    assert shown["'=h"].tolist()[:2] + shown["'=h"].tolist()[3:] == ["'=1", "a", "'-x"] and pd.isna(shown["'=h"][2])
    assert shown["n"].tolist()[:1] == [-1.0]  # numbers are left alone
    assert shown["kind"].tolist() == ["'@a", "b", "b", "'+c"]
    assert shown["o"].tolist() == ["x", "'\tq", "ok", "'\rr"]
    assert shown.astype(object).fillna("").equals(neutralised(frame).astype(object).fillna(""))
    mixed = pd.DataFrame({"m": [1, "=a", 2.5]})  # Arrow cannot convert this: neutralised for Streamlit to mend
    assert screen_table(mixed)["m"].tolist() == [1, "'=a", 2.5]


def bomb() -> bytes:
    """A workbook-shaped zip whose sheet is 60 MB of zeros: it compresses to about 60 kB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * 60_000_000)
    return buffer.getvalue()


def test_zip_bomb_is_refused_before_openpyxl_opens_it(monkeypatch):
    data = bomb()
    assert len(data) < 200_000

    def must_not_open(*args, **kwargs):
        raise AssertionError("openpyxl opened a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", must_not_open)
    with pytest.raises(upload.UploadRefused, match=r"would expand to 60 MB \(\d[\d,]* times its size\)"):
        upload.read_upload(data)


def test_workbook_larger_than_allowed_when_expanded_is_refused(monkeypatch):
    monkeypatch.setattr(upload, "MAX_XLSX_UNCOMPRESSED", 1000)
    with pytest.raises(upload.UploadRefused, match="would expand to"):
        upload.read_upload(workbook([["Response ID", "Date"], ["R1", "2025-01-01"]]))


def workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_dates_numbers_and_odd_headers_is_read(pack_env):
    import datetime as dt
    pack, lookups = pack_env
    data = workbook([["Respondent ID", "Activity", "Completed", "Gender", "How old are you?"],
                     ["Q1", "X1", dt.datetime(2025, 1, 10, 14, 5), "Woman", 47],
                     ["Q2", "X1", 45678, "Prefer not to say", 47.0]])
    prepared = prepared_from(data, "responses", lookups)
    assert ledger.check(pack, prepared) == []
    assert prepared.frame["submitted_on"].tolist() == ["2025-01-10", "2025-01-21"]
    assert prepared.frame["sex"].tolist() == ["F", ""]
    assert prepared.frame["age_band"].tolist() == ["45-49", "45-49"]


def test_over_the_row_limit_is_refused(monkeypatch):
    assert upload.MAX_ROWS == 200_000
    monkeypatch.setattr(upload, "MAX_ROWS", 5)
    text = "Response ID,Date\n" + "".join(f"R{i},2025-01-01\n" for i in range(7))
    with pytest.raises(upload.UploadRefused, match="more than 5 rows; split it into smaller files"):
        upload.read_upload(text.encode())
    with pytest.raises(upload.UploadRefused, match="more than 5 rows"):
        upload.read_upload(workbook([["Response ID", "Date"]] + [[f"R{i}", "2025-01-01"] for i in range(7)]))


def test_over_the_size_limit_is_refused():
    with pytest.raises(upload.UploadRefused, match="larger than 20 MB"):
        upload.read_upload(b"a,b\n" + b"1,2\n" * (upload.MAX_UPLOAD_BYTES // 4 + 1))


def test_unmatched_required_fields_can_come_from_the_page(pack_env):
    pack, lookups = pack_env
    data = b"Timestamp,Gender,Age\n2025-03-05 09:00,Man,33\n"  # X2 ran on 5 March 2025
    assert "no column of the file is matched" in " ".join(
        str(p) for p in prepared_from(data, "responses", lookups).problems)
    prepared = prepared_from(data, "responses", lookups, fixed={"activity_id": "X2"})
    assert ledger.check(pack, prepared) == []
    assert prepared.generate_ids and prepared.frame["activity_id"].tolist() == ["X2"]
    assert upload.finalise(prepared, "B20250101T000000000000Z-abcdef")["response_id"].tolist() == [
        "B20250101T000000000000Z-abcdef-2"]


# --- the page, signed in ------------------------------------------------------------------------------------

@pytest.fixture
def page_env(tmp_path, monkeypatch):
    pack = write_tiny_pack(tmp_path / "pack")
    monkeypatch.setenv("REACH_PACK", str(pack))
    monkeypatch.setenv("REACH_DB", str(tmp_path / "store.duckdb"))
    auth.forget_failures()
    return pack


def signed_in_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "7_Upload_data.py"), default_timeout=120)
    at.secrets["editors"] = {"accounts": {"lead": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()}}
    at.run()
    at.text_input[0].input("lead")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception and len(at.file_uploader) == 1
    return at


def respondents_on_home() -> str:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120).run()
    assert not at.exception
    return [m.value for m in at.metric][2]


SURVEY = (b"Timestamp,Gender,Age,Data zone,Which priorities matter to you?\n"
          b"02/01/2025 10:00,Woman,47,Area A1,Prevention\n"
          b"2025-01-03 11:30,Man,52,a2,Carers\n")


def test_signed_in_editor_adds_a_survey_export_and_the_home_page_changes(page_env):
    assert respondents_on_home() == "7"  # the tiny pack's base of 7 (test_pages), published as 7
    at = signed_in_page()
    at.file_uploader[0].set_value(("Survey export (final).csv", SURVEY, "text/csv")).run()
    mapped = {s.label: s.value for s in at.selectbox}
    assert mapped["submitted_on"] == "Timestamp" and mapped["sex"] == "Gender" and mapped["age_band"] == "Age"
    assert mapped["area_code"] == "Data zone" and mapped["priorities"] == "Which priorities matter to you?"
    next(s for s in at.selectbox if s.label.startswith("Which activity")).select("X1").run()
    assert not at.error, [e.value for e in at.error]
    next(b for b in at.button if b.label.startswith("Add 2 responses")).click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("Added batch B" in s.value and "10 responses" in s.value for s in at.success)
    # Both new respondents are in the base (home, age and sex known): 9 people. The batch's generated ids give the
    # cell its key, so the published figure is 9 moved by at most 9 − 5 = 4 (disclosure.adjustments).
    assert 5 <= int(respondents_on_home()) <= 13
    assert reach.respondent_cells(Store(page_env.parent / "store.duckdb"), 15)["respondents"].sum() == 9
    (folder,) = [p for p in (page_env / "ledger_batches").iterdir() if p.name.startswith("B")]
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "original.csv", "responses.csv"]
    # The same file again is refused as soon as it is chosen, naming the batch already added: no button to add it.
    at.file_uploader[0].set_value(("again.csv", SURVEY, "text/csv")).run()
    assert any(f"already added as batch {folder.name} by lead" in e.value for e in at.error)
    assert not [b for b in at.button if b.label.startswith("Add ")]
    # Re-saved with a trailing blank line (another hash, no ids): its rows are shown as repeats, and nothing is added.
    at.file_uploader[0].set_value(("again.csv", SURVEY + b"\n", "text/csv")).run()
    next(s for s in at.selectbox if s.label.startswith("Which activity")).select("X1").run()
    assert any(w.value.startswith("2 of the 2 rows look like responses already added: 2 match") for w in at.warning)
    (shown,) = [d.value for d in at.dataframe if "same as" in d.value.columns]
    assert shown["same as"].tolist() == [f"batch {folder.name}, row 2", f"batch {folder.name}, row 3"]
    assert shown["row"].tolist() == [2, 3] and shown["sex"].tolist() == ["F", "M"]
    assert any(i.value.startswith("Nothing new to add") for i in at.info)
    assert not [b for b in at.button if b.label.startswith("Add ")]
    # Both new respondents are in the base (home, age and sex known): 9 people. The batch's generated ids give the
    # cell its key, so the published figure is 9 moved by at most 9 − 5 = 4 (disclosure.adjustments).
    assert 5 <= int(respondents_on_home()) <= 13
    assert reach.respondent_cells(Store(page_env.parent / "store.duckdb"), 15)["respondents"].sum() == 9
    # Undo from the page brings the figures back.
    at.checkbox(key=f"undo_sure_{folder.name}").check().run()
    next(b for b in at.button if b.label.startswith("Undo the last file")).click().run()
    assert any(f"Batch {folder.name} was taken out" in s.value for s in at.success)
    assert respondents_on_home() == "7"  # the same 7 people as before: the same key, the same published count


def test_a_file_with_problems_shows_the_report_and_no_add_button(page_env):
    at = signed_in_page()
    at.file_uploader[0].set_value(("bad.csv", (FIXTURES / "age_straddles_bands.csv").read_bytes(), "text/csv")).run()
    assert any("1 problem(s) to fix" in e.value for e in at.error)
    report = at.dataframe[-1].value
    assert report.iloc[0]["row"] == 2 and "spans more than one five-year band" in report.iloc[0]["problem"]
    assert not [b for b in at.button if b.label.startswith("Add ")]


def test_refused_file_says_why_on_the_page(page_env):
    at = signed_in_page()
    at.file_uploader[0].set_value(("bomb.xlsx", bomb(), "application/octet-stream")).run()
    assert any("would expand to" in e.value for e in at.error)
    assert not at.exception


# --- matching columns and values ----------------------------------------------------------------------------

def test_columns_are_guessed_from_unfamiliar_names():
    guessed = mapping.guess_columns(["Timestamp", "Gender", "Age", "Data zone", "Which priorities matter to you?",
                                     "Respondent ID"], "responses")
    assert guessed == {"response_id": "Respondent ID", "activity_id": None, "submitted_on": "Timestamp",
                       "area_code": "Data zone", "sex": "Gender", "age_band": "Age", "communities": None,
                       "priorities": "Which priorities matter to you?"}
    assert mapping.guess_columns(["Postcode", "Date", "Langauge"], "responses")["area_code"] == "Postcode"
    assert mapping.guess_columns(["Langauge"], "responses")["age_band"] is None  # 'age' inside a word is not age
    activities = mapping.guess_columns(["Event name", "Type", "Organisation", "Date", "Attendees", "Delivery"],
                                       "activities")
    assert (activities["title"], activities["method"], activities["partner"], activities["start_date"],
            activities["participants"], activities["mode"]) == ("Event name", "Type", "Organisation", "Date",
                                                                "Attendees", "Delivery")


@pytest.mark.parametrize("function, value, expected", [
    (mapping.to_method, "Focus Group", "focus_group"),
    (mapping.to_method, "Online survey", "online_survey"),
    (mapping.to_mode, "Face to face", "in_person"),
    (mapping.to_sex, "Female", "F"), (mapping.to_sex, "Woman", "F"), (mapping.to_sex, "Male", "M"),
    (mapping.to_sex, "Man", "M"), (mapping.to_sex, "Non-binary", "X"), (mapping.to_sex, "Prefer to self-describe", "X"),
    (mapping.to_sex, "Prefer not to say", ""),
    (mapping.to_age_band, "47", "45-49"), (mapping.to_age_band, "90", "90+"), (mapping.to_age_band, "3", "0-4"),
    (mapping.to_age_band, "45-49", "45-49"), (mapping.to_age_band, "18-19", "15-19"),
    (mapping.to_age_band, "Prefer not to say", ""),
    (mapping.to_date, "31/03/2025", "2025-03-31"), (mapping.to_date, "45678", "2025-01-21"),
    (mapping.to_date, "2025-03-31 14:05:00", "2025-03-31"), (mapping.to_date, "2025-03-31T14:05:00Z", "2025-03-31"),
    (mapping.to_date, "31/03/2025 14:05", "2025-03-31"), (mapping.to_date, "31 March 2025", "2025-03-31"),
])
def test_free_text_values_become_the_allowed_ones(function, value, expected):
    assert function(value) == (expected, None)


def test_american_dates_are_read_month_first_only_when_the_column_says_so():
    assert mapping.month_first(["03/25/2025", "04/01/2025"]) is True
    assert mapping.month_first(["25/03/2025", "04/01/2025"]) is False
    assert mapping.to_date("03/25/2025", month_first=True) == ("2025-03-25", None)


def test_areas_by_code_or_name_without_regard_to_case():
    codes, names = {"s01000001": "S01000001"}, {"glensburgh 1": "S01000001", "twin": None}
    assert mapping.to_area("s01000001", codes, names) == ("S01000001", None)
    assert mapping.to_area("GLENSBURGH 1", codes, names) == ("S01000001", None)
    assert "more than one area has this name" in mapping.to_area("Twin", codes, names)[1]


def test_a_matching_is_saved_per_partner_and_reused(tmp_path):
    pack = write_tiny_pack(tmp_path / "pack")
    columns = {"submitted_on": "Timestamp", "sex": "Gender", "age_band": None}
    file = mapping.save_mapping(pack, "Carers Centre (North)/../..", "responses", columns, "lead")
    assert file == pack / "ledger_mappings" / "carers-centre-north.json"  # a partner name is never a path
    assert mapping.load_mapping(pack, "Carers Centre (North)/../..", "responses") == {
        "submitted_on": "Timestamp", "sex": "Gender"}
    assert mapping.load_mapping(pack, "Carers Centre (North)/../..", "activities") == {}
    assert mapping.saved_partners(pack) == ["Carers Centre (North)/../.."]
    file.write_text("{not json")
    assert mapping.load_mapping(pack, "Carers Centre (North)/../..", "responses") == {}


ODD_VALUES = (b"Timestamp,Gender,Age,Data zone\n"
              b"2025-01-02,Woman (including trans woman),47,A1\n"
              b"2025-01-03,Man,16-24,A2\n"
              b"2025-01-04,Woman (including trans woman),16-24,A3\n")


def test_values_no_rule_knows_are_listed_and_can_be_matched_by_hand(pack_env):
    _, lookups = pack_env
    raw = upload.read_upload(ODD_VALUES)
    columns = mapping.guess_columns(list(raw.frame.columns), "responses")
    first = upload.prepare(raw, "responses", columns, lookups, {"activity_id": "X1"})
    assert first.refused == {"sex": ["Woman (including trans woman)"], "age_band": ["16-24"]}
    assert {p.column for p in first.problems} >= {"Gender → sex", "Age → age_band"} or first.problems
    chosen = {"sex": {"Woman (including trans woman)": "F"},
              "age_band": {"16-24": ""},  # a survey's band across two of ours: recorded as not known
              "method": {"x": "not a method"}}  # a value the ledger does not allow is never applied
    matched = upload.prepare(raw, "responses", columns, lookups, {"activity_id": "X1"}, chosen)
    assert matched.problems == []
    assert matched.frame["sex"].tolist() == ["F", "M", "F"] and matched.frame["age_band"].tolist() == ["45-49", "", ""]
    assert "method" not in matched.values


def test_values_matched_by_hand_are_saved_with_the_partner(tmp_path):
    pack = write_tiny_pack(tmp_path / "pack")
    mapping.save_mapping(pack, "Survey Team", "responses", {"sex": "Gender"}, "lead",
                         {"sex": {"Woman (including trans woman)": "F"}})
    assert mapping.load_values(pack, "Survey Team", "responses") == {"sex": {"Woman (including trans woman)": "F"}}
    assert mapping.load_values(pack, "Survey Team", "activities") == {}
    assert mapping.load_mapping(pack, "Survey Team", "responses") == {"sex": "Gender"}


def test_the_page_matches_unknown_values_and_adds_the_file(page_env):
    at = signed_in_page()
    at.file_uploader[0].set_value(("export.csv", ODD_VALUES, "text/csv")).run()
    next(s for s in at.selectbox if s.label.startswith("Which activity")).select("X1").run()
    assert any("problem(s) to fix" in e.value for e in at.error)
    next(s for s in at.selectbox if s.label.startswith("sex: “Woman")).select("F").run()
    next(s for s in at.selectbox if s.label.startswith("age_band: “16-24")).select("").run()
    assert not at.error, [e.value for e in at.error]
    next(b for b in at.button if b.label.startswith("Add 3 responses")).click().run()
    assert any("Added batch B" in s.value and "11 responses" in s.value for s in at.success)
