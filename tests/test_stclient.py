"""The load-test client (bench/stclient.py) against a real `streamlit run` on the tiny pack: it opens pages,
sees their elements, and a filter change it sends reaches the script."""
from __future__ import annotations

import asyncio

import pytest
from streamlit.proto.Element_pb2 import Element

from bench.stclient import StreamlitClient, page_name_from_path, widget_value
from tests.packs import write_tiny_pack


def test_page_name_and_widget_values():
    assert page_name_from_path("/") == "" and page_name_from_path("/Needs_profile") == "Needs_profile"
    element = Element()
    element.selectbox.id = "$$ID-abc-filter_locality"
    element.selectbox.options[:] = ["Whole partnership", "North", "South"]
    element.selectbox.default = 0
    assert widget_value(element).string_value == "Whole partnership"  # the display string, not the index
    element.selectbox.raw_value, element.selectbox.set_value = "South", True
    assert widget_value(element).string_value == "South"
    with pytest.raises(ValueError):
        StreamlitClient("http://example.org:8501")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from bench.bench_load import streamlit_server
    pack = write_tiny_pack(tmp_path_factory.mktemp("stclient") / "pack")
    with streamlit_server(pack) as running:
        yield running


@pytest.mark.slow
def test_open_pages_and_change_a_filter(server):
    async def scenario():
        async with StreamlitClient(server.url, message_timeout=120, run_timeout=300) as tab:
            home = await tab.open("/")
            assert home.ok, home.errors
            assert home.metrics()["Residents"] == "1,520"
            assert tab.selectbox("filter_year") is not None

            needs = await tab.open("/Needs_profile")
            assert needs.ok, needs.errors
            assert needs.status == "FINISHED_SUCCESSFULLY" and not needs.exceptions()
            assert needs.messages > 0 and needs.bytes > 0 and needs.seconds > 0
            assert tab.selected("filter_locality") == "Whole partnership"
            assert needs.metrics()["Residents"] == "1,520"

            north = await tab.change_selectbox("filter_locality", "North")
            assert north.ok, north.errors
            assert north.metrics()["Residents"] == "760"
            assert north.texts() != needs.texts()
            assert "locality=North" in tab.query_string  # the page wrote the choice to the address

            back = await tab.change_selectbox("filter_locality", "Whole partnership")
            assert back.ok and back.metrics()["Residents"] == "1,520"
    asyncio.run(scenario())


@pytest.mark.slow
def test_stop_and_page_not_found(server):
    async def scenario():
        async with StreamlitClient(server.url, message_timeout=120, run_timeout=300) as tab:
            slides = await tab.open("/", "present=1")  # presentation mode ends with st.stop()
            assert slides.ok, slides.errors
            assert any("slide 1 of" in text for text in slides.texts())
            missing = await tab.open("/No_such_page")
            assert missing.page_not_found and missing.status == "FINISHED_SUCCESSFULLY"
            assert not missing.ok
    asyncio.run(scenario())


@pytest.mark.slow
def test_warm_chooses_every_option_of_every_filter(server):
    """bench.warm on the tiny pack's needs profile: filters locality (All, North, South) and year (2024–2030: 7);
    variant (principal) and indicator (dementia) have one option and are skipped. Runs: the first open, then per
    filter each option and an open back to the defaults: 1 + (3 + 1) + (7 + 1) = 13."""
    from bench.warm import warm
    done = asyncio.run(warm(server.url, ["/Needs_profile"]))
    assert [(page, runs) for page, runs, _ in done] == [("/Needs_profile", 13)]
