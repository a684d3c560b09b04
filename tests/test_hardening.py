"""Issue 19, parts 1–3: a hostile visitor and a careless editor.

(a) Every page, visited with hostile addresses (empty, reversed, unknown, Markdown, HTML and very long values) and
on a pack whose names are Markdown and HTML, runs without an exception and never hands Streamlit's Markdown (or
plotly's HTML-lite) a name as anything but text. (b) Counts and rates that broke the build (inf, 1e30, 2**63) and
pack.toml settings that were wrongly accepted are refused by the one contract check — in a pack, an upload and an
import — naming file, row and column; nothing is written, and the last good store keeps serving.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

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
        "locality_margin", "quintile_margin", "trim", "autoplay")
IMAGE = "![b](http://127.0.0.1:9/beacon.png)"
TAG = "<img src=x>"
LONG = "L" * 4990 + IMAGE  # 5,026 characters
ENGAGEMENT_PAGES = ("pages/2_Engagement_reach.py", "pages/3_Hard_to_reach.py", "pages/6_Survey_weighting.py")
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
    """(every text the page hands to Streamlit's Markdown, every text in its plotly figures)."""
    markdown, plotly = [], []
    for node in _nodes(at._tree):
        proto, kind = getattr(node, "proto", None), getattr(node, "type", "")
        if proto is None or kind in ("dataframe", "arrow_data_frame"):  # table cells are shown as text
            continue
        if kind == "plotly_chart":
            plotly += list(_json_strings(json.loads(proto.spec)))
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


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def tiny_env(tmp_path_factory, monkeypatch_module):
    folder = tmp_path_factory.mktemp("hardening_tiny")
    monkeypatch_module.setenv("REACH_PACK", str(write_tiny_pack(folder / "pack")))
    monkeypatch_module.setenv("REACH_DB", str(folder / "store.duckdb"))
    return folder


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
    at = run(page, {"from": "2025-03-05", "to": "2025-01-01"})
    assert not at.exception, [e.message for e in at.exception]
    assert any("showing 2025-01-01 to 2025-03-05 instead" in i.value for i in at.info), [i.value for i in at.info]
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
def hostile_env(tmp_path_factory, monkeypatch_module):
    folder = tmp_path_factory.mktemp("hardening_hostile")
    pack = write_tiny_pack(folder / "pack", hostile_files())
    monkeypatch_module.setenv("REACH_PACK", str(pack))
    monkeypatch_module.setenv("REACH_DB", str(folder / "store.duckdb"))
    return pack


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
]


HOSTILE_IDS = ["population-inf", "population-1e30", "population-2**63", "participants-inf", "community-1e30",
               "rate-inf", "relative_rate-1e30", "year-99999", "suppress_below-true", "suppress_below-0",
               "suppress_below-101", "base_year-true"]


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
