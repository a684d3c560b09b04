"""Issue 19: a hostile visitor and a careless editor.

Parts 1–3: (a) every page, visited with hostile addresses (empty, reversed, unknown, Markdown, HTML and very long
values) and on a pack whose names are Markdown and HTML, runs without an exception and never hands Streamlit's
Markdown (or plotly's HTML-lite) a name as anything but text. (b) Counts and rates that broke the build (inf, 1e30,
2**63) and pack.toml settings that were wrongly accepted are refused by the one contract check — in a pack, an upload
and an import — naming file, row and column; nothing is written, and the last good store keeps serving.
Parts 4–5 (at the end): a survey export added again is found by its content; workbooks with a DTD; dates past the
year guard or outside their activity; the sign-in pause per client; ids with invisible characters; builds killed
half way; a build that fails for another reason.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import duckdb
import pytest
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from analytics import build, ledger, mapping, ui, upload
from analytics.build import ensure_store
from analytics.db import Store
from tests.apptest import ROOT, run
from tests.packs import FILES, write_tiny_pack
from tests.test_auth import HASH, PASSWORD

PAGES = ["dashboard.py"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))
# Every query parameter a page reads.
KEYS = ("locality", "partner", "method", "from", "to", "year", "variant", "indicator", "map", "by", "need", "weight",
        "group", "size", "oversample", "priority", "by_locality", "by_age", "by_sex", "by_quintile", "age_margin",
        "locality_margin", "quintile_margin", "trim", "autoplay", "first", "second", "side_by")
IMAGE = "![b](http://127.0.0.1:9/beacon.png)"
TAG = "<img src=x>"
LONG = "L" * 4990 + IMAGE  # 5,026 characters
ENGAGEMENT_PAGES = ("pages/2_Engagement_reach.py", "pages/2_Reach_over_time.py", "pages/3_Hard_to_reach.py",
                    "pages/6_Survey_weighting.py")
MARKDOWN_FIELDS = {"body", "label", "help", "placeholder"}  # what Streamlit renders as Markdown (radio: options too)


def _strings(message, fields: set[str]):
    for field, value in message.ListFields():
        items = value if field.is_repeated else [value]
        if field.type == field.TYPE_MESSAGE:
            for item in items:
                yield from _strings(item, fields)
        elif field.type == field.TYPE_STRING and field.name in fields:
            yield from items


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def rendered(at: AppTest) -> tuple[list[str], list[str]]:
    """(every text the page hands to Streamlit's Markdown, every text it hands to an HTML renderer: its plotly
    figures and st.html, where Markdown syntax is plain text but a tag would be a tag)."""
    markdown, plotly = [], []
    for node in _nodes(at._tree):
        proto, kind = getattr(node, "proto", None), getattr(node, "type", "")
        if proto is None or kind in ("dataframe", "arrow_data_frame"):  # table cells are shown as text
            continue
        if kind == "plotly_chart":
            plotly += list(_json_strings(json.loads(proto.spec)))
        elif kind == "html":
            plotly += _strings(proto, {"body"})
        else:
            markdown += _strings(proto, MARKDOWN_FIELDS | ({"options"} if kind == "radio" else set()))
    return markdown, plotly


def _json_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def assert_safe(at: AppTest, hostile: tuple[str, ...], html: tuple[str, ...] = (TAG,)) -> None:
    assert not at.exception, [e.message for e in at.exception]
    markdown, plotly = rendered(at)
    leaks = [(h, t[:200]) for h in hostile for t in markdown if h in t]
    assert not leaks, leaks
    leaks = [(h, t[:200]) for h in html for t in plotly if h in t]
    assert not leaks, leaks




# --- (a) hostile addresses --------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("value", ["", "Atlantis", IMAGE, TAG, LONG], ids=["empty", "unknown", "image", "html", "long"])
def test_every_page_survives_hostile_addresses(tiny_env, page, value):
    at = run(page, {key: value for key in KEYS})
    assert_safe(at, (IMAGE, TAG, LONG))
    notices = [i.value for i in at.info]
    if value and page == "pages/1_Needs_profile.py":  # the value is echoed, as text and shortened
        assert any(f"locality '{ui.plain(value, ui.ECHO_LIMIT)}'" in n for n in notices), notices
    if value == LONG:
        assert all(len(n) < 600 for n in notices), [len(n) for n in notices]


def test_a_hostile_value_is_escaped_exactly():
    assert ui.plain(IMAGE) == "\\!\\[b\\](http\u2060\\://127.0.0.1\\:9/beacon.png)"
    assert ui.plain(TAG) == "\\<img src=x\\>"
    assert ui.plain("mail a@b.org or www.x.org :red[r] :smile:") == \
        "mail a\u2060@b.org or www\u2060.x.org \\:red\\[r\\] \\:\u2060smile\\:"
    assert ui.plain("1. list\n# heading") == "1\\. list \\# heading" and ui.plain("2) x") == "2\\) x"
    assert ui.plain("- item") == "\\- item" and ui.plain("65-74 women") == "65-74 women"
    assert ui.plain("x" * 100, 10) == "x" * 9 + "…"
    assert ui.sentence(f"**Asked too often:** {IMAGE} (3)") == f"**Asked too often\\:** {ui.plain(IMAGE)} (3)"


@pytest.mark.parametrize("page", ENGAGEMENT_PAGES)
def test_a_reversed_period_is_read_forwards(tiny_env, page):
    at = run(page, {"from": "2025-03-05", "to": "2025-01-01"})  # a day in the address means its month
    assert not at.exception, [e.message for e in at.exception]
    assert any("showing January 2025 to March 2025 instead" in i.value for i in at.info), [i.value for i in at.info]
    assert not any("No engagement activity matches" in i.value for i in at.info)


@pytest.mark.parametrize("page", ENGAGEMENT_PAGES)
def test_filters_that_match_no_activity_say_so(tiny_env, page):
    # Carers Centre ran only a focus group: with online surveys nothing is left (Engagement reach raised KeyError).
    at = run(page, {"partner": "Carers Centre", "method": "online_survey"})
    assert not at.exception, [e.message for e in at.exception]
    assert any("No engagement activity matches these filters" in i.value for i in at.info)


def test_an_unexpected_error_shows_viewers_no_details(tmp_path):
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["client"]["showErrorDetails"] == "none"
    page = tmp_path / "page.py"
    page.write_text('raise KeyError("group")\n')
    before = streamlit_config.get_option("client.showErrorDetails")  # tests/conftest.py shows them to tests
    streamlit_config.set_option("client.showErrorDetails", settings["client"]["showErrorDetails"])
    try:
        at = AppTest.from_file(str(page), default_timeout=30).run()
    finally:
        streamlit_config.set_option("client.showErrorDetails", before)
    (error,) = at.exception
    assert "group" not in error.message and "KeyError" not in error.message and str(tmp_path) not in error.message
    assert error.message.startswith("This app has encountered an error") and not list(error.stack_trace)


# --- (a) hostile names stored in the pack and the ledger -------------------------------------------------------

NAMES = {  # tiny pack name → a hostile one (no commas or semicolons: they are the files' separators)
    "locality": ("North", "North ![n](http://127.0.0.1:9/n.png)"),
    "hood": ("Hood N1", "Hood ![h](http://127.0.0.1:9/h.png)"),
    "area": ("Area A1", "Area <b>A1</b>"),
    "partner": ("Carers Centre", "Carers <img src=x> Centre"),
    "title": ("X1,Survey,", "X1,Survey [t](http://127.0.0.1:9/t),"),
    "community": ("Carers", "Carers **x** :red[y] $z$"),
    "indicator": ("People with dementia", "People with <b>dementia</b>"),
    "priority": ("P1,Prevention", "P1,Prevention ![p](http://127.0.0.1:9/p.png)"),
    "under_reached": ("Gypsy/Travellers", "Gypsy/Travellers ![g](http://127.0.0.1:9/g.png)"),  # Home's one gap
    "name": ("Tiny HSCP", "Tiny <img src=x> [HSCP](http://127.0.0.1:9/n)"),
}
# What must never reach Markdown as written (escaped, each of them breaks up).
STORED = ("![n](", "![h](", "[t](", "![p](", "![l](", "![g](", "[HSCP](", "<b>A1</b>", "<img src=x>", "**x**", ":red[y]", "$z$",
          "<b>dementia</b>", "<b>SIMD</b>")


def hostile_files() -> dict[str, str]:
    files = dict(FILES)
    files["areas.geojson"] = (files["areas.geojson"].replace('"locality": "North"', f'"locality": "{NAMES["locality"][1]}"')
                              .replace(NAMES["hood"][0], NAMES["hood"][1]).replace(*NAMES["area"]))
    files["communities.csv"] = files["communities.csv"].replace(",North,", f",{NAMES['locality'][1]},").replace(
        "Carers,", f"{NAMES['community'][1]},").replace(*NAMES["under_reached"])
    files["activities.csv"] = (files["activities.csv"].replace(",North,", f",{NAMES['locality'][1]},")
                               .replace(*NAMES["partner"]).replace(*NAMES["title"])
                               .replace(",Carers\n", f",{NAMES['community'][1]}\n"))
    files["responses.csv"] = files["responses.csv"].replace(",Carers,", f",{NAMES['community'][1]},")
    files["need_indicators.csv"] = files["need_indicators.csv"].replace(*NAMES["indicator"])
    files["priorities.csv"] = files["priorities.csv"].replace(*NAMES["priority"])
    files["projections.csv"] = files["projections.csv"].replace(*NAMES["name"])
    files["pack.toml"] = files["pack.toml"].replace(*NAMES["name"]).replace('"SIMD 2020v2"', '"<b>SIMD</b> 2020v2"').replace(
        '"intermediate zone"', '"zone ![l](http://127.0.0.1:9/l.png)"')
    return files


@pytest.fixture(scope="module")
def hostile_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hardening_hostile")
    pack = write_tiny_pack(folder / "pack", hostile_files())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REACH_PACK", str(pack))
        mp.setenv("REACH_DB", str(folder / "store.duckdb"))
        yield pack


@pytest.mark.parametrize("page", PAGES)
def test_hostile_names_in_the_pack_are_shown_as_text(hostile_env, page):
    at = run(page)
    assert_safe(at, STORED, html=("<img src=x>", "<b>A1</b>", "<b>dementia</b>", "<b>SIMD</b>"))


def test_a_hostile_group_is_described_as_text(hostile_env):
    community = NAMES["community"][1]
    at = run("pages/3_Hard_to_reach.py", {"group": community})
    assert at.selectbox(key="filter_group").value == community  # a real group: chosen, not refused
    assert at.markdown[-1].value.startswith(ui.plain(community) + " (community)"), at.markdown[-1].value
    assert_safe(at, STORED)


def test_home_names_its_gaps_as_text(hostile_env):
    at = run("dashboard.py")
    gap = ui.plain(NAMES["under_reached"][1])
    assert any(m.value.startswith(f"- {gap} (community)") for m in at.markdown), [m.value for m in at.markdown]
    assert at.title[0].value == ui.plain(NAMES["name"][1])
    assert_safe(at, STORED)


def test_hostile_names_on_the_presentation_slides(hostile_env):
    at = run("dashboard.py", {"present": "1"})
    for _ in range(4):
        assert_safe(at, STORED)
        at.button[1].click().run()
    assert_safe(at, STORED)


def signed_in(page: str, hostile_env: Path) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=120)
    at.secrets["editors"] = {"accounts": {"lead": HASH}}
    at.run()
    at.text_input[0].input("lead")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_value_matching_labels_on_the_upload_page_are_text(hostile_env):
    at = signed_in("pages/7_Upload_data.py", hostile_env)
    survey = (f"Response ID,Gender,Age\nH1,{IMAGE},47\nH2,{TAG},52\n").encode()
    at.file_uploader[0].set_value(("survey.csv", survey, "text/csv")).run()
    labels = [s.label for s in at.selectbox if s.label.startswith("sex:")]
    assert labels == [f"sex: “{ui.plain(IMAGE)}”", f"sex: “{ui.plain(TAG)}”"], labels
    assert_safe(at, (IMAGE, TAG))


def test_volunteer_list_messages_are_text(hostile_env):
    at = signed_in("pages/5_Citizens_panel.py", hostile_env)
    volunteers = f"member_id,area_code,sex,age_band\nV1,A1,{IMAGE},40-44\nV2,{TAG},F,40-44\n".encode()
    at.file_uploader(key="pool_upload").set_value(("volunteers.csv", volunteers, "text/csv")).run()
    assert any("problem(s), so no one was selected" in e.value for e in at.error)
    listed = " ".join(m.value for m in at.markdown)
    assert ui.plain(IMAGE) in listed and ui.plain(TAG) in listed, listed
    assert_safe(at, (IMAGE, TAG))


# --- (b) values that validated and then crashed -------------------------------------------------------------------

def replace(name: str, old: str, new: str) -> dict[str, str]:
    assert old in FILES[name], old
    return {name: FILES[name].replace(old, new, 1)}


COUNT = "expected a whole number of 0 or more, up to 1,000,000,000"
RATE = "expected a number of 0 or more (use . for decimals), up to 1,000,000; not inf or nan"
SUPPRESS = "expected a whole number, without quotes, from 1 to 100; counts of people under it are withheld"
DATE = "expected a date written YYYY-MM-DD, such as 2025-03-31, from 1900 to 2100"
PLAIN_ID = "an id or code must be plain visible text, so retype it without that character"
HOSTILE_PACKS = [
    (replace("population.csv", "A1,F,0-4,10", "A1,F,0-4,inf"),
     f"population.csv, row 2, column 'population': value 'inf' — {COUNT}"),
    (replace("population.csv", "A1,F,0-4,10", "A1,F,0-4,1e30"),
     f"population.csv, row 2, column 'population': value '1e30' — {COUNT}"),
    (replace("population.csv", "A1,F,0-4,10", "A1,F,0-4,9223372036854775808"),
     f"population.csv, row 2, column 'population': value '9223372036854775808' — {COUNT}"),
    (replace("activities.csv", "remote,6,", "remote,inf,"),
     f"activities.csv, row 2, column 'participants': value 'inf' — {COUNT}"),
    (replace("communities.csv", "Carers,interest,North,60", "Carers,interest,North,1e30"),
     f"communities.csv, row 2, column 'population': value '1e30' — {COUNT}"),
    (replace("need_indicators.csv", "85-89,0.1", "85-89,inf"),
     f"need_indicators.csv, row 19, column 'rate': value 'inf' — {RATE}"),
    (replace("need_gradient.csv", "dementia,1,1.5", "dementia,1,1e30"),
     f"need_gradient.csv, row 2, column 'relative_rate': value '1e30' — {RATE}"),
    (replace("projections.csv", "Tiny HSCP,principal,2030,F,0-4", "Tiny HSCP,principal,99999,F,0-4"),
     "projections.csv, row 40, column 'year': value '99999' — expected a year such as 2024 (from 1900 to 2100)"),
    (replace("pack.toml", "suppress_below = 5", "suppress_below = true"),
     f"pack.toml, column 'suppress_below': value 'true' — {SUPPRESS}"),
    (replace("pack.toml", "suppress_below = 5", "suppress_below = 0"),
     f"pack.toml, column 'suppress_below': value '0' — {SUPPRESS}"),
    (replace("pack.toml", "suppress_below = 5", "suppress_below = 101"),
     f"pack.toml, column 'suppress_below': value '101' — {SUPPRESS}"),
    (replace("pack.toml", "base_year = 2024", "base_year = true"),
     "pack.toml, column 'base_year': value 'true' — expected a whole number, without quotes, from 1900 to 2100"),
    # Part 5: dates past the year guard, dates outside their activity, ids that look like others.
    (replace("responses.csv", "R1,X1,2025-01-02", "R1,X1,0001-01-01"), f"responses.csv, row 2, column "
     f"'submitted_on': value '0001-01-01' — {DATE}"),
    (replace("activities.csv", "2025-03-05,2025-03-05,North", "2025-03-05,9999-12-31,North"),
     f"activities.csv, row 3, column 'end_date': value '9999-12-31' — {DATE}"),
    (replace("responses.csv", "R1,X1,2025-01-02", "R1,X1,2024-12-31"),
     "responses.csv, row 2, column 'submitted_on': value '2024-12-31' — is before its activity's start_date "
     "(2025-01-01); a response cannot come before its activity: correct the date, or the activity_id"),
    (replace("responses.csv", "R7,X2,2025-03-05", "R7,X2,2025-04-06"),
     "responses.csv, row 8, column 'submitted_on': value '2025-04-06' — is more than 31 days after its activity's "
     "end_date (2025-03-05); correct the date, the activity_id, or the activity's end_date"),
    (replace("responses.csv", "R2,X1", "R1\u200b,X1"),
     "responses.csv, row 3, column 'response_id': value 'R1<U+200B>' — holds an invisible or look-alike character "
     f"(U+200B ZERO WIDTH SPACE at character 3); {PLAIN_ID}"),
    (replace("responses.csv", "R3,X1", "\u202eR3,X1"),
     "responses.csv, row 4, column 'response_id': value '<U+202E>R3' — holds an invisible or look-alike character "
     f"(U+202E RIGHT-TO-LEFT OVERRIDE at character 1); {PLAIN_ID}"),
]


HOSTILE_IDS = ["population-inf", "population-1e30", "population-2**63", "participants-inf", "community-1e30",
               "rate-inf", "relative_rate-1e30", "year-99999", "suppress_below-true", "suppress_below-0",
               "suppress_below-101", "base_year-true", "submitted_on-0001", "end_date-9999", "before-start",
               "after-end-and-grace", "id-zero-width", "id-bidi"]


@pytest.fixture(scope="module")
def good_store(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("good_store")
    build.build(write_tiny_pack(folder / "pack"), folder / "store.duckdb")
    return (folder / "store.duckdb").read_bytes()


@pytest.mark.parametrize("changes, expected", HOSTILE_PACKS, ids=HOSTILE_IDS)
def test_the_build_refuses_hostile_values_and_keeps_the_store(tmp_path, capsys, good_store, changes, expected):
    db = tmp_path / "store.duckdb"
    db.write_bytes(good_store)
    before = db.read_bytes()
    code = build.main(["--pack", str(write_tiny_pack(tmp_path / "bad", changes)), "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2 and expected in err, err
    assert "Traceback" not in err and db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [".store.duckdb.lock", "store.duckdb"]


ACTIVITY = ("activity_id,title,method,partner,start_date,end_date,locality,area_code,mode,participants,communities\n"
            "X9,Drop-in,event,HSCP,2025-04-01,2025-04-01,South,,in_person,{},\n")


@pytest.fixture(scope="module")
def upload_env(tmp_path_factory) -> tuple[Path, Path, upload.Lookups]:
    folder = tmp_path_factory.mktemp("hardening_upload")
    pack, db = write_tiny_pack(folder / "pack"), folder / "store.duckdb"
    ensure_store(pack, db)
    store = Store(db)
    try:
        return pack, db, upload.lookups(store)
    finally:
        store.close()


@pytest.mark.parametrize("value", ["inf", "1e30", "9223372036854775808", "-1", "nan"])
def test_an_upload_with_a_hostile_count_is_refused_and_nothing_is_added(upload_env, value):
    pack, db, lookups = upload_env
    data = ACTIVITY.format(value).encode()
    raw = upload.read_upload(data)
    prepared = upload.prepare(raw, "activities", mapping.guess_columns(list(raw.frame.columns), "activities"),
                              lookups)
    found = [str(p) for p in ledger.check(pack, prepared)]
    assert found == [f"uploaded file, row 2, column 'participants': value '{value}' — {COUNT} (not a decimal, inf "
                     "or an exponent past it)"]
    before = db.read_bytes()
    with pytest.raises(ledger.LedgerRefused):
        ledger.commit(pack, db, prepared, data, original_name="x.csv", uploaded_by="lead", partner="HSCP")
    assert not [p for p in (pack / "ledger_batches").glob("*") if not p.name.startswith(".")]
    assert db.read_bytes() == before


def test_a_pack_edited_to_hold_rate_inf_leaves_the_last_good_store_serving(tmp_path, monkeypatch):
    pack, db = write_tiny_pack(tmp_path / "pack"), tmp_path / "store.duckdb"
    monkeypatch.setenv("REACH_PACK", str(pack))
    monkeypatch.setenv("REACH_DB", str(db))
    for cache in (ui._store, ui._META, ui._RESULTS, ui._FIGURES, ui._SENTENCES, ui._TABLES):
        cache.clear()
    good = run("dashboard.py")
    assert not good.exception and [m.value for m in good.metric][:1] == ["1,520"]
    write_tiny_pack(pack, replace("need_indicators.csv", "85-89,0.1", "85-89,inf"))
    for cache in (ui._store, ui._META, ui._RESULTS, ui._FIGURES, ui._SENTENCES, ui._TABLES):
        cache.clear()  # as a restarted server
    for page in ("dashboard.py", "pages/1_Needs_profile.py"):
        at = run(page)
        assert not at.exception, [e.message for e in at.exception]
        assert "last version that loaded" in at.error[0].value and str(tmp_path) not in at.error[0].value
        assert any("need\\_indicators.csv, row 19, column 'rate'\\: value 'inf'" in m.value
                   for m in at.expander[0].markdown), [m.value for m in at.expander[0].markdown]
        assert [m.value for m in at.metric][:1] == ["1,520" if page == "dashboard.py" else "1,520"]


def test_a_build_that_fails_unexpectedly_keeps_the_last_good_store(tmp_path, monkeypatch):
    pack, db = write_tiny_pack(tmp_path / "pack"), tmp_path / "store.duckdb"
    monkeypatch.setenv("REACH_PACK", str(pack))
    monkeypatch.setenv("REACH_DB", str(db))
    ensure_store(pack, db)
    (pack / "pack.toml").write_text(FILES["pack.toml"] + "\n")  # changed: the next start rebuilds

    def broken(*args, **kwargs):
        raise OverflowError("cannot convert float infinity to integer")
    monkeypatch.setattr(ui, "ensure_store", broken)
    for cache in (ui._store, ui._META, ui._RESULTS, ui._FIGURES, ui._SENTENCES, ui._TABLES):
        cache.clear()
    at = run("dashboard.py")
    assert not at.exception, [e.message for e in at.exception]
    assert "last version that loaded" in at.error[0].value
    assert [m.value for m in at.metric][:1] == ["1,520"]


DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "scotland-open"


@pytest.mark.skipif(not DATA.is_dir(), reason=f"the published Scottish data are not at {DATA}")
def test_an_import_with_rate_inf_is_refused_and_writes_nothing(tmp_path, capsys):
    from analytics.importers.communities import DEFAULTS
    from analytics.importers.scotland import main
    from tests.test_import_scotland import nl_args
    rates = (DEFAULTS / "need_indicators.csv").read_text(encoding="utf-8").splitlines()
    header, first = rates[0].split(","), rates[1].split(",")
    first[header.index("rate")] = "inf"
    (tmp_path / "need.csv").write_text("\n".join([rates[0], ",".join(first), *rates[2:]]) + "\n", encoding="utf-8")
    out = tmp_path / "pack"
    assert main(nl_args(out) + ["--need-indicators", str(tmp_path / "need.csv")]) == 2
    err = capsys.readouterr().err
    assert f"need_indicators.csv, row 2, column 'rate': value 'inf' — {RATE}" in err, err[-2000:]
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["need.csv"]


# --- part 4: a survey export added again, found by its content ----------------------------------------------------

SURVEY = "Timestamp,Gender,Age,Data zone\n" + "".join(  # ten people, no response ids: X1 ran 1 Jan–28 Feb 2025
    f"2025-01-{10 + i} 10:00,Woman,{40 + i},A{1 + i % 4}\n" for i in range(10))


@pytest.fixture
def ledger_env(tmp_path) -> tuple[Path, Path, upload.Lookups]:
    pack, db = write_tiny_pack(tmp_path / "pack"), tmp_path / "store.duckdb"
    ensure_store(pack, db)
    store = Store(db)
    try:
        return pack, db, upload.lookups(store)
    finally:
        store.close()


def survey(data: str, lookups: upload.Lookups, activity: str = "X1") -> upload.Prepared:
    raw = upload.read_upload(data.encode())
    return upload.prepare(raw, "responses", mapping.guess_columns(list(raw.frame.columns), "responses"), lookups,
                          {"activity_id": activity})


def stored(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM responses").fetchone()[0])


def batches(pack: Path) -> list[str]:
    return sorted(p.name for p in (pack / "ledger_batches").iterdir() if p.name.startswith("B"))


def test_a_survey_export_saved_again_with_a_blank_line_adds_nothing(ledger_env):
    pack, db, lookups = ledger_env
    first = ledger.commit(pack, db, survey(SURVEY, lookups), SURVEY.encode(), original_name="export.csv",
                          uploaded_by="lead", partner="HSCP")
    assert (first["rows"], first["repeats_left_out"], stored(db)) == (10, 0, 18)
    again = SURVEY + "\n"  # another file hash; no ids, so every row would get a new generated id
    prepared = survey(again, lookups)
    assert ledger.check(pack, prepared) == []  # nothing wrong with any row on its own
    found = ledger.repeats(pack, prepared)
    assert (found.count, found.in_ledger, found.in_file) == (10, 10, 0)
    assert found.examples["row"].tolist() == [2, 3, 4, 5, 6]
    assert found.examples["same as"].tolist() == [f"batch {first['batch_id']}, row {r}" for r in (2, 3, 4, 5, 6)]
    assert found.examples.iloc[0][["submitted_on", "area_code", "sex", "age_band"]].tolist() == [
        "2025-01-10", "A1", "F", "40-44"]
    before = db.read_bytes()
    with pytest.raises(ledger.LedgerRefused) as caught:
        ledger.commit(pack, db, prepared, again.encode(), original_name="export.csv", uploaded_by="lead",
                      partner="HSCP")
    assert str(caught.value) == ("All 10 rows are already in the ledger or repeat another row of the file (same "
                                 "activity, date, area, sex, age band, communities and priorities); nothing was added.")
    assert batches(pack) == [first["batch_id"]] and stored(db) == 18 and db.read_bytes() == before


def test_repeats_in_the_ledger_and_in_the_file_are_left_out_and_new_rows_added(ledger_env):
    pack, db, lookups = ledger_env
    data = ("Date,Gender,Age,Data zone,Communities,Priorities\n"
            "2025-01-20,Man,33,A2,,P1\n"  # new
            "20/01/2025, man ,30-34,a2,,p1\n"  # row 2 again: other case, spaces and spelling
            "2025-01-02,Female,65,Area A1,carers,P2;P1\n")  # R1 of the tiny pack's responses.csv (P1;P2)
    prepared = survey(data, lookups)
    found = ledger.repeats(pack, prepared)
    assert (found.count, found.in_ledger, found.in_file) == (2, 1, 1)
    assert found.examples[["row", "same as"]].values.tolist() == [[3, "row 2 of this file"],
                                                                  [4, "responses.csv, row 2"]]
    manifest = ledger.commit(pack, db, prepared, data.encode(), original_name="x.csv", uploaded_by="lead",
                             partner="HSCP")
    assert (manifest["rows"], manifest["repeats_left_out"], stored(db)) == (1, 2, 9)
    written = (pack / "ledger_batches" / manifest["batch_id"] / "responses.csv").read_text().splitlines()
    assert written[1].startswith(f"{manifest['batch_id']}-2,X1,2025-01-20,A2,M,30-34,,P1,")  # the file's row 2
    # Different people who answered alike can still be added, when the editor says so.
    data += "2025-01-21,Man,33,A2,,\n"
    kept = ledger.commit(pack, db, survey(data, lookups), data.encode(), original_name="x.csv",
                         uploaded_by="lead", partner="HSCP", add_repeats=True)
    assert (kept["rows"], kept["repeats_left_out"], stored(db)) == (4, 0, 13)


def test_a_file_with_response_ids_is_checked_by_its_ids_not_its_content(ledger_env):
    pack, db, lookups = ledger_env
    data = "Response ID,Date,Gender,Age,Data zone\nQ1,2025-01-20,Man,33,A2\nQ2,2025-01-20,Man,33,A2\n"
    prepared = survey(data, lookups)
    assert not prepared.generate_ids and ledger.repeats(pack, prepared).count == 0


# --- part 5: smaller holes -----------------------------------------------------------------------------------------

def with_dtd(dtd: str, cell: str = "R1", part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """A workbook openpyxl wrote, with `dtd` put before the root element of `part` and `cell` as cell A2."""
    import io
    import zipfile

    import openpyxl
    book = openpyxl.Workbook()
    book.active.append(["Response ID", "Date"])
    book.active.append(["R1", "2025-01-10"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == part:
                data = dtd.encode() + data
            if name == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<t>R1</t>", f"<t>{cell}</t>".encode())
            target.writestr(name, data)
    return out.getvalue()


LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">' + "".join(
    f'<!ENTITY {c} "{f"&{p};" * 10}">' for p, c in zip("abcdefgh", "bcdefghi")) + "]>")


@pytest.mark.parametrize("dtd, cell, part", [
    ('<!DOCTYPE worksheet [<!ENTITY b "bbbb">]>', "&b;", "xl/worksheets/sheet1.xml"),  # read as R1 → bbbb before
    (LAUGHS, "&i;", "xl/worksheets/sheet1.xml"),  # a billion laughs: ParseError traceback before
    ('<!DOCTYPE worksheet [<!ENTITY b SYSTEM "file:///etc/passwd">]>', "&b;", "xl/worksheets/sheet1.xml"),
    ('<!DOCTYPE Types [<!ENTITY b "bbbb">]>', "R1", "[Content_Types].xml"),
], ids=["internal-entity", "billion-laughs", "external-entity", "content-types"])
def test_a_workbook_with_a_dtd_is_refused_naming_the_file_and_its_part(dtd, cell, part):
    with pytest.raises(upload.UploadRefused) as caught:
        upload.read_upload(with_dtd(dtd, cell, part), "survey.xlsx")
    assert str(caught.value) == (
        f"The workbook 'survey.xlsx' declares a DTD (<!DOCTYPE …> in its part {part}), which no spreadsheet program "
        "writes and which can make a file expand or read other files; it was not opened. Open it in Excel and save "
        "it again as .xlsx, or save it as CSV UTF-8.")
    assert upload.read_upload(with_dtd("", "R1", part)).frame.to_dict("records") == [
        {"Response ID": "R1", "Date": "2025-01-10"}]  # the same workbook without the DTD is read


def test_openpyxl_parses_with_defusedxml_as_pinned():
    from openpyxl.xml import DEFUSEDXML
    assert DEFUSEDXML, "defusedxml is not installed: python -m pip install -r requirements.txt"
    assert "defusedxml==0.7.1" in (ROOT / "requirements.txt").read_text().splitlines()


YEAR = "the year {} is outside 1900 to 2100; expected a date such as 2025-03-31 or 31/03/2025 (day first), a " \
       "spreadsheet date or a timestamp such as 2025-03-31 14:05"


@pytest.mark.parametrize("when, shown, expected", [
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", YEAR.format(1)),  # was read as 0001-01-01: every default
    ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z", YEAR.format(9999)),  # period became 0001…9999
    ("0001-01-01", "0001-01-01", YEAR.format(1)),
    ("31/12/2024", "2024-12-31", "is before its activity's start_date (2025-01-01); a response cannot come before "
                                 "its activity: correct the date, or the activity_id"),
    ("2025-04-01T09:00:00Z", "2025-04-01", "is more than 31 days after its activity's end_date (2025-02-28); correct "
                                           "the date, the activity_id, or the activity's end_date"),
], ids=["timestamp-0001", "timestamp-9999", "date-0001", "before-start", "after-end"])
def test_an_upload_dated_outside_the_guard_or_its_activity_is_refused(upload_env, when, shown, expected):
    pack, db, lookups = upload_env
    data = f"Timestamp,Gender\n2025-01-10 10:00,Woman\n{when},Man\n"
    prepared = survey(data, lookups)
    assert [str(p) for p in ledger.check(pack, prepared)] == [
        f"uploaded file, row 3, column 'Timestamp → submitted_on': value '{shown}' — {expected}"]
    before = db.read_bytes()
    with pytest.raises(ledger.LedgerRefused):
        ledger.commit(pack, db, prepared, data.encode(), original_name="x.csv", uploaded_by="lead", partner="HSCP")
    assert not [p for p in (pack / "ledger_batches").glob("*") if not p.name.startswith(".")]
    assert db.read_bytes() == before


def test_a_response_up_to_31_days_after_its_activity_is_accepted(tmp_path):
    from analytics.pack import load_pack
    changes = replace("responses.csv", "R7,X2,2025-03-05", "R7,X2,2025-04-05")  # X2 ended 2025-03-05
    assert len(load_pack(write_tiny_pack(tmp_path, changes)).tables["responses"]) == 8


@pytest.mark.parametrize("ids, expected", [
    ("R100\u2067,R101", "value 'R100<U+2067>' — holds an invisible or look-alike character (U+2067 RIGHT-TO-LEFT "
                        f"ISOLATE at character 5); {PLAIN_ID}"),
    ("\uff32101,R102", "value '<U+FF32>101' — holds an invisible or look-alike character (U+FF32 FULLWIDTH LATIN "
                       f"CAPITAL LETTER R at character 1); {PLAIN_ID}"),
], ids=["bidi", "full-width"])
def test_an_upload_with_look_alike_ids_is_refused(upload_env, ids, expected):
    pack, db, lookups = upload_env
    first, second = ids.split(",")
    data = f"Response ID,Date\n{first},2025-01-10\n{second},2025-01-11\n"
    prepared = survey(data, lookups)
    assert [str(p) for p in ledger.check(pack, prepared)] == [
        f"uploaded file, row 2, column 'Response ID → response_id': {expected}"]
    with pytest.raises(ledger.LedgerRefused):
        ledger.commit(pack, db, prepared, data.encode(), original_name="x.csv", uploaded_by="lead", partner="HSCP")
    assert not [p for p in (pack / "ledger_batches").glob("*") if not p.name.startswith(".")]


def test_an_anonymous_visitor_cannot_pause_the_editor(monkeypatch):
    from analytics import auth
    from tests.test_auth import HASH as FAST  # few bcrypt rounds
    auth.forget_failures()
    accounts = {"lead": FAST, **{f"user{i}": FAST for i in range(20)}}
    for _ in range(auth.MAX_FAILURES):  # five wrong passwords for the editor's name, each from a new session
        auth.sign_in(accounts, "lead", "guess", auth.Throttle(), now=100.0, client="203.0.113.9")
    assert auth.sign_in(accounts, "lead", PASSWORD, auth.Throttle(), now=110.0, client="203.0.113.9") == (
        False, "Too many failed attempts. Try again in 50 seconds.")  # that visitor is paused, in any session
    assert auth.sign_in(accounts, "lead", PASSWORD, auth.Throttle(), now=110.0, client="198.51.100.7") == (
        True, "Signed in as lead.")  # the editor, elsewhere, is not
    for i in range(auth.MAX_CLIENT_FAILURES):  # one place trying many names is paused too
        auth.sign_in(accounts, f"user{i}", "guess", auth.Throttle(), now=200.0, client="192.0.2.1")
    assert auth.sign_in(accounts, "lead", PASSWORD, auth.Throttle(), now=200.0, client="192.0.2.1")[0] is False
    assert auth.sign_in(accounts, "lead", PASSWORD, auth.Throttle(), now=200.0, client="198.51.100.7")[0] is True
    auth.forget_failures()


@pytest.mark.parametrize("address, headers, expected", [
    ("203.0.113.9", {"X-Forwarded-For": "10.9.9.9"}, "203.0.113.9"),  # a direct connection: its own address
    (None, {"X-Forwarded-For": "10.9.9.9, 198.51.100.7"}, "198.51.100.7"),  # via a local proxy: what it appended
    (None, {"X-Real-IP": "198.51.100.8"}, "198.51.100.8"),
    (None, {}, "local"),
])
def test_the_client_is_the_connection_or_what_a_local_proxy_says(monkeypatch, address, headers, expected):
    from types import SimpleNamespace
    monkeypatch.setattr(ui.st, "context", SimpleNamespace(ip_address=address, headers=headers))
    assert ui.client() == expected


def test_builds_killed_half_way_are_cleaned_up_under_the_lock(tmp_path, good_store):
    import os
    import subprocess
    import sys
    import time
    db = tmp_path / "store.duckdb"
    db.write_bytes(good_store)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = [f".store.duckdb.{gone}.building", f".store.duckdb.{gone}.building.wal", ".store.duckdb.1.building"]
    live = f".store.duckdb.{os.getpid()}.building"  # a build of this process, still being written
    for name in stale + [live]:
        (tmp_path / name).write_bytes(b"half a store")
    old = time.time() - build.STALE_BUILD_SECONDS - 1
    os.utime(tmp_path / ".store.duckdb.1.building", (old, old))  # pid 1 is alive, but nothing wrote it for 10 min
    assert ensure_store(write_tiny_pack(tmp_path / "pack"), db) is False  # the store is current: no build
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(
        [".store.duckdb.lock", live, "store.duckdb"])


def test_a_build_that_fails_for_another_reason_says_so_in_one_line(tmp_path, capsys, good_store, monkeypatch):
    db = tmp_path / "store.duckdb"
    db.write_bytes(good_store)

    def broken(pack, path, **options):
        raise OverflowError("cannot convert float infinity\nto integer")
    monkeypatch.setattr(build, "build", broken)
    assert build.main(["--pack", str(write_tiny_pack(tmp_path / "pack")), "--db", str(db)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == (f"The store {db} is unchanged: the build failed (OverflowError: cannot convert float "
                                 "infinity to integer).\n")
    assert db.read_bytes() == good_store
