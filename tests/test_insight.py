"""Issue 22: themes, prevalence, distinctive themes, redaction, quotes and stories — hand-worked values first, then
the demonstration pack (every planted theme found for its group), then the contract, the upload and the page."""
from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import ledger, mapping, upload
from analytics.build import build, ensure_store
from analytics.db import Store
from analytics.insight import codebook, groups, library, redact, themes
from analytics.metrics import metric
from analytics.pack import load_pack
from analytics.schema import PackInvalid
from tests.apptest import run
from tests.packs import write_tiny_pack

# ------------------------------------------------------------------------------------------ the codebook by hand

FIVE = pd.DataFrame({"response_id": ["R1", "R2", "R3", "R4", "R5"], "text": [
    "The bus never comes.", "I need respite, and the buses are late.", "Staff were kind.",
    "A short break would help.", "Busy staff, no time."]})
BOOK = {"Transport": ("bus", "buses"), "Respite": ("respite", "short break*")}


def test_a_codebook_finds_whole_words_and_prefixes_in_five_comments():
    coded = themes.code(FIVE, BOOK)
    assert sorted(map(tuple, coded[["theme", "response_id"]].to_numpy())) == [
        ("Respite", "R2"), ("Respite", "R4"), ("Transport", "R1"), ("Transport", "R2")]  # 'Busy' is not 'bus'


def test_prevalence_shares_and_wilson_intervals_by_hand():
    # 2 of 5 commenters mention Transport: p = 0.4; Wilson with z = 1.95996: centre 0.44345, half-width 0.32583.
    mentions = pd.DataFrame({"source": "codebook", "dimension": ["all", "all"], "grp": "All",
                             "theme": ["Transport", "Respite"], "mentioned": [2.0, np.nan], "withheld": [False, True]})
    people = pd.DataFrame({"dimension": ["all"], "grp": ["All"], "commenters": [5.0], "withheld": [False]})
    out = groups.prevalence(mentions, people).set_index("theme")
    assert out.at["Transport", "share"] == pytest.approx(0.4)
    assert out.at["Transport", "share_low"] == pytest.approx(0.1176, abs=1e-4)
    assert out.at["Transport", "share_high"] == pytest.approx(0.7693, abs=1e-4)
    assert out.at["Respite", "withheld"] and math.isnan(out.at["Respite", "share"])  # withheld: nothing derived


def test_published_noise_never_gives_a_share_above_one():
    mentions = pd.DataFrame({"source": "codebook", "dimension": ["all"], "grp": "All", "theme": ["T"],
                             "mentioned": [7.0], "withheld": [False]})
    people = pd.DataFrame({"dimension": ["all"], "grp": ["All"], "commenters": [6.0], "withheld": [False]})
    assert groups.prevalence(mentions, people)["share"].iloc[0] == 1.0


def test_weighted_log_odds_with_an_informative_prior_by_hand():
    # Group: 8 and 2 people; everyone: 10 and 10; A = 10 so a = 5 each; the rest: 2 and 8.
    # δ1 = log(13/7) − log(7/13) = 1.23808; var = 1/13 + 1/7 = 0.21978; z = 2.6409. δ2 = −δ1.
    counts = pd.DataFrame({"dimension": ["all", "all", "community", "community"], "grp": ["All", "All", "C", "C"],
                           "theme": ["A", "B", "A", "B"], "mentioned": [10.0, 10.0, 8.0, 2.0]})
    out = groups.log_odds(counts, prior_strength=10).set_index("theme")
    assert out.at["A", "log_odds"] == pytest.approx(1.23808, abs=1e-5)
    assert out.at["A", "z"] == pytest.approx(2.6409, abs=1e-4)
    assert out.at["B", "log_odds"] == pytest.approx(-1.23808, abs=1e-5)
    assert (out.at["A", "rank"], out.at["B", "rank"]) == (1, 2)


def test_a_withheld_cell_is_not_ranked():
    counts = pd.DataFrame({"dimension": ["all", "all", "locality", "locality"], "grp": ["All", "All", "N", "N"],
                           "theme": ["A", "B", "A", "B"], "mentioned": [10.0, 10.0, 8.0, np.nan]})
    assert list(groups.log_odds(counts)["theme"]) == ["A"]


# ------------------------------------------------------------------------------------------ redaction

@pytest.mark.parametrize("text,gone,placeholder", [
    ("Write to jo.bloggs@example.com please", "jo.bloggs@example.com", "[e-mail]"),
    ("Call 07700 900123 after six", "07700 900123", "[phone]"),
    ("Ring +44 (0)141 496 0000", "496 0000", "[phone]"),
    ("We are in IV99 1AB", "IV99 1AB", "[postcode]"),
    ("I live at 14 Carron Road now", "14 Carron Road", "[address]"),
    ("My name is Agnes Boyd", "Agnes Boyd", "[name]"),
    ("Mrs Duncan was lovely", "Duncan", "[name]"),
    ("Fiona MacLeod said so", "MacLeod", "[name]"),
    ("See www.example.com for more", "www.example.com", "[link]"),
])
def test_each_kind_of_personal_detail_is_redacted(text, gone, placeholder):
    out = redact.redact(text)
    assert gone not in out and placeholder in out and not redact.problems(out)


@pytest.mark.parametrize("hostile", ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "+44 7700 900123", "-1+1",
                                     "Call 0 7 7 0 0 9 0 0 1 2 3 now", "x\u202ey", "a" * 500])
def test_text_that_fails_the_checks_is_never_a_quote(hostile):
    assert redact.safe_quote(hostile) is None or not any(c.isdigit() for c in redact.safe_quote(hostile))


def test_markup_is_removed_and_ordinary_words_are_kept():
    out = redact.safe_quote("<script>alert(1)</script><b>Nobody</b> to talk to some weeks")
    assert out is not None and "<" not in out and "talk to some weeks" in out


# ------------------------------------------------------------------------------------------ quotes and threshold

COMMENTS = ("response_id,question,text,consent_to_quote\n"
            "R1,Q,I need respite. Email me at ann@example.com,yes\nR2,Q,Respite please,yes\n"
            "R3,Q,Respite is full,yes\nR4,Q,Respite in the south is far,yes\nR5,Q,More respite,yes\n"
            "R6,Q,Respite nights would help,yes\nR7,Q,Respite and a short break,no\nR8,Q,Respite for carers,yes\n")


@pytest.fixture(scope="module")
def quoted(tmp_path_factory) -> Store:
    folder = tmp_path_factory.mktemp("quotes")
    build(write_tiny_pack(folder / "pack", {"comments.csv": COMMENTS}), folder / "store.duckdb")
    return Store(folder / "store.duckdb")


def test_a_group_of_two_published_as_five_still_gives_no_quote(tmp_path):
    # With this secret the South's two commenters (R4, R6, both on respite) are published as 5, not withheld
    # (a count under the threshold becomes 0 or the threshold): the count is shown, but a quote needs 5 people.
    from tests.packs import FILES
    toml = FILES["pack.toml"].replace('"tiny-test-pack-6"', '"tiny-test-pack-0"')
    build(write_tiny_pack(tmp_path / "pack", {"comments.csv": COMMENTS, "pack.toml": toml}), tmp_path / "s.duckdb")
    store = Store(tmp_path / "s.duckdb")
    prevalence = store.cursor().execute("SELECT * FROM insight_prevalence WHERE source = 'codebook'").df()
    south = prevalence[(prevalence["dimension"] == "locality") & (prevalence["grp"] == "South")]
    assert not south["withheld"].any() and (south["commenters"] == 5).all()
    said = store.cursor().execute("SELECT * FROM insight_quotes").df()
    assert not ((said["dimension"] == "locality") & (said["grp"] == "South")).any()


def test_a_quote_never_comes_from_a_group_below_the_threshold(quoted):
    prevalence = quoted.cursor().execute("SELECT * FROM insight_prevalence WHERE source = 'codebook'").df()
    south = prevalence[(prevalence["dimension"] == "locality") & (prevalence["grp"] == "South")]
    assert south["withheld"].all()  # 2 people in the South: withheld
    said = quoted.cursor().execute("SELECT * FROM insight_quotes").df()
    assert not ((said["dimension"] == "locality") & (said["grp"] == "South")).any()
    shown = said.merge(prevalence, on=["dimension", "grp", "theme"])
    assert len(shown) == len(said) and not shown["withheld"].any()  # every quote's cell is published


def test_quotes_need_consent_and_are_redacted(quoted):
    said = quoted.cursor().execute("SELECT quote FROM insight_quotes").df()["quote"]
    assert not said.str.contains("short break").any()  # R7 did not consent
    assert not said.str.contains("ann@example.com").any()
    assert all(not redact.problems(q) for q in said)


def test_free_text_never_reaches_the_store(quoted):
    con = quoted.cursor()
    tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    assert "comments" not in tables
    for table in tables:
        text = con.execute(f'SELECT * FROM "{table}"').df().astype(str)
        assert not text.apply(lambda c: c.str.contains("ann@example.com", regex=False)).any().any(), table


# ------------------------------------------------------------------------------------------ the demonstration pack

PLANTED = [("community", "Minority ethnic people", "Interpreting and language"),
           ("community", "Unpaid carers", "Respite and breaks for carers"),
           ("locality", "South Braes", "Transport and travel"), ("locality", "North Carron", "Transport and travel"),
           ("age_group", "75+", "Digital exclusion"), ("quintile", "1", "Cost of living")]


@pytest.mark.parametrize("dimension,grp,theme", PLANTED)
def test_every_planted_theme_is_found_and_ranked_first_or_second_for_its_group(demo, dimension, grp, theme):
    shown = library.prevalence(demo, dimension, theme)
    cell = shown[shown["grp"] == grp].iloc[0]
    assert not cell["withheld"] and cell["share_low"] > library.prevalence(demo, "all", theme)["share_high"].iloc[0]
    ranked = library.distinctive(demo, dimension, grp)
    assert theme in list(ranked["theme"].head(2))


def test_discovery_proposes_the_theme_the_codebook_lacks_for_eastfield(demo):
    proposed = library.topics(demo)
    pharmacy = proposed[proposed["terms"].str.contains("pharmacy|prescription") & (proposed["like_theme"] == "")]
    assert len(pharmacy)
    top = library.distinctive(demo, "locality", "Eastfield", source="discovered")["theme"].head(2)
    assert set(top) & set(pharmacy["theme"])


def test_no_fake_personal_detail_of_the_demo_reaches_any_table(demo):
    con = demo.cursor()
    for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
        text = con.execute(f'SELECT * FROM "{table}"').df().astype(str)
        for raw in ("@example.com", "07700 900", "01632 960", "Carron Road", "<script", "Agnes Boyd"):
            assert not text.apply(lambda c: c.str.contains(raw, regex=False)).any().any(), (table, raw)


def test_a_withdrawn_story_appears_nowhere(demo):
    withdrawn = pd.read_csv(Path(__file__).resolve().parents[1] / "data/demo/stories.csv").query(
        "consent == 'withdrawn'")
    assert len(withdrawn)
    con = demo.cursor()
    for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
        text = con.execute(f'SELECT * FROM "{table}"').df().astype(str)
        for title in withdrawn["title"]:
            assert not text.apply(lambda c: c.str.contains(title, regex=False)).any().any(), (table, title)
    assert not set(withdrawn["story_id"]) & set(library.stories(demo, board=True)["story_id"])


def test_board_only_stories_need_a_signed_in_editor(demo):
    assert set(library.stories(demo)["consent"]) == {"public"}
    assert set(library.stories(demo, board=True)["consent"]) == {"public", "board_only"}
    assert "story" not in set(library.search(demo, "booking online at 82")["kind"])  # board only
    assert "story" in set(library.search(demo, "booking online at 82", board=True)["kind"])


def test_search_ranks_by_relevance_and_filters(demo):
    found = library.search(demo, "interpreter letters English")
    assert found["score"].is_monotonic_decreasing and found.iloc[0]["themes"] == "Interpreting and language"
    carers = library.search(demo, "", community="Unpaid carers")
    assert len(carers) and carers["communities"].str.contains("Unpaid carers").all()


def test_you_said_we_did_counts_every_status(demo):
    acts = library.actions(demo)
    assert set(acts["status"]) == set(library.STATUS_LABELS.values())
    assert acts.loc[acts["status"] == "Not taken", "reason"].str.len().gt(0).all()
    summary = library.response_summary(demo)
    assert summary["insights"] == 39 and summary["answered"] == pytest.approx(9 / 39)


def test_no_published_count_of_people_is_under_the_threshold(demo):
    frame = demo.cursor().execute("SELECT mentioned, commenters FROM insight_prevalence").df()
    assert (frame.dropna() >= 5).all().all()


# ------------------------------------------------------------------------------------------ the contract and upload

def test_the_contract_names_file_row_column_and_fix(tmp_path):
    pack = write_tiny_pack(tmp_path / "pack", {
        "comments.csv": "response_id,question,text,consent_to_quote\nR1,Q,Fine,maybe\nR99,Q,Hi,no\n",
        "actions.csv": "action_id,insight_ids,decision,owner,status,reason,reported_back_on\n"
                       "A1,I1,Do it,Me,not_taken,,\n",
        "insights.csv": "insight_id,title,summary,published_on,locality,communities,priorities,themes,source\n"
                        "I1,T,S,2025-04-01,Atlantis,,,,\n"})
    with pytest.raises(PackInvalid) as caught:
        load_pack(pack)
    said = [str(p) for p in caught.value.problems]
    assert any(s.startswith("comments.csv, row 2, column 'consent_to_quote': value 'maybe'") for s in said)
    assert any(s.startswith("comments.csv, row 3, column 'response_id': value 'R99'") for s in said)
    assert any("insights.csv, row 2, column 'locality'" in s for s in said)
    assert any("actions.csv, row 2, column 'reason'" in s and "needs its reason" in s for s in said)


def test_comments_upload_with_undo(tmp_path):
    pack, db = write_tiny_pack(tmp_path / "pack"), tmp_path / "store.duckdb"
    ensure_store(pack, db)
    data = b"Respondent,Comment,May we quote?\nR1,We need respite,Y\nR2,The bus is late,No\n"
    store = Store(db)
    raw = upload.read_upload(data)
    columns = mapping.guess_columns(list(raw.frame.columns), "comments")
    assert columns["text"] == "Comment" and columns["consent_to_quote"] == "May we quote?"
    prepared = upload.prepare(raw, "comments", columns, upload.lookups(store))
    store.close()
    assert list(prepared.frame["consent_to_quote"]) == ["yes", "no"]
    assert ledger.check(pack, prepared) == []
    ledger.commit(pack, db, prepared, data, original_name="c.csv", uploaded_by="t", partner="HSCP")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM insight_codebook").fetchone()[0] > 0
        assert "comments" not in {t for (t,) in con.execute("SHOW TABLES").fetchall()}
    assert len(load_pack(pack).tables["comments"]) == 2
    ledger.undo_last(pack, db, "t")
    assert len(load_pack(pack).tables["comments"]) == 0


def test_an_editor_keeps_a_proposed_theme(tmp_path):
    pack, db = write_tiny_pack(tmp_path / "pack", {"comments.csv": COMMENTS}), tmp_path / "store.duckdb"
    ensure_store(pack, db)
    book = codebook.keep(pack, db, "Night care", ["respite nights", "overnight*"])
    assert book["Night care"] == ("respite nights", "overnight*") and "Waiting times" in book
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM insight_codebook WHERE theme = 'Night care'").fetchone()[0] == 1
    with pytest.raises(codebook.CodebookRefused):
        codebook.keep(pack, db, "a;b", ["x"])


# ------------------------------------------------------------------------------------------ the page

PAGE = "pages/4_Insight_library.py"
STORIES = "pages/4_Stories.py"
ANSWERED = "pages/4_You_said_we_did.py"
RAW = ("@example.com", "07700 900", "01632 960", "<script", "Carron Road", "=HYPERLINK")


def _text(at) -> str:
    return " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.subheader, *at.header])


def test_the_library_searches_and_quotes_without_personal_details(demo_env):
    at = run(PAGE)
    assert not at.exception, [e.message for e in at.exception]
    text = _text(at)
    assert "In their words" in text  # the quotes (all tabs render at once under AppTest)
    shown = text + " ".join(str(d.value.to_csv()) for d in at.dataframe)
    for raw in RAW:
        assert raw not in shown, raw
    at.text_input[0].input("respite").run()
    assert not at.exception
    assert "Carers cannot get a break" in " ".join(m.value for m in at.markdown)


def test_stories_show_no_withdrawn_or_board_story_to_a_viewer(demo_env):
    at = run(STORIES)
    assert not at.exception, [e.message for e in at.exception]
    text = _text(at)
    assert "Recovery, one day at a time" not in text and "Booking online at 82" not in text
    assert "Twenty years of caring" in text
    assert not any(raw in text for raw in RAW)


def test_you_said_we_did_answers_each_finding_and_prints_a_public_view(demo_env, demo):
    at = run(ANSWERED)
    assert not at.exception, [e.message for e in at.exception]
    summary, acts = library.response_summary(demo), library.actions(demo)
    assert [m.label for m in at.metric] == ["Insights", "Insights with a response", "Reported back"]
    assert at.metric[0].value == f"{summary['insights']:,}"
    assert at.metric[2].value == metric("reported_back").format(summary["reported_back"])
    tables = " ".join(str(d.value.to_csv()) for d in at.dataframe)
    assert not any(raw in tables for raw in RAW)
    at.toggle[0].set_value(True).run()
    public = [m.value for m in at.markdown if m.value.startswith("**You said:**")]
    assert len(public) == len(acts) > 0 and all("**We did:**" in p for p in public)


def test_the_story_for_the_board_in_presentation_mode(demo_env):
    at = run(STORIES, {"present": "1"})
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.header) == 1 and at.button[-1].label == "Next"


def test_a_theme_by_group_is_described_from_its_shown_shares():
    table = pd.DataFrame({"grp": ["Carers", "Veterans", "LGBT+"], "share": [0.30, 0.05, np.nan],
                          "withheld": [False, False, True]})
    from analytics import describe
    assert describe.theme_prevalence(table, "Respite", 0.12, "community") == (
        "Respite: mentioned by 12% of everyone who commented. By community, from 5% (Veterans) to 30% (Carers); "
        "groups whose intervals overlap may not differ. 1 group withheld (small numbers).")


def test_the_library_charts_the_chosen_theme_by_group(demo_env, demo):
    at = run(PAGE)
    theme = library.themes(demo)["theme"].iloc[0]
    by = library.prevalence(demo, "community", theme=theme)
    chart = next(c for c in at.get("plotly_chart") if "People mentioning" in c.proto.spec)
    assert f"People mentioning '{theme}', by community" in chart.proto.spec
    assert any(c.value.replace("\\:", ":").startswith(f"{theme}: mentioned by") for c in at.caption)
    assert len(by) > 3 and by["withheld"].any()  # the demo has groups on both sides of the threshold
