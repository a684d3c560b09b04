"""The needs profile on the demonstration pack: every locality, variant and a spread of years run without an
exception, and the need map carries every small area."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from analytics import needs
from tests import apptest


def run(params: dict[str, str]) -> AppTest:
    return apptest.run("pages/1_Needs_profile.py", params)


def test_every_locality_variant_and_year(demo_env, demo):
    localities = ["All"] + sorted(needs.age_summary(demo).query("locality != 'All'")["locality"])
    variants = needs.variants(demo)
    base = int(demo.meta()["base_year"])
    for variant, last in zip(variants["variant"], variants["last_year"]):
        for locality in localities:
            for year in (base, base + 9, int(last)):
                at = run({"locality": locality, "variant": variant, "year": str(year)})
                assert not at.exception, (locality, variant, year, [e.message for e in at.exception])
                assert at.selectbox(key="filter_locality").value == locality


def test_need_map_shows_every_small_area(demo_env, demo):
    at = run({})
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    maps = [s for s in specs if s["data"] and s["data"][0]["type"] == "choroplethmap"
            and "Need index" in s["layout"]["title"]["text"]]
    assert len(maps) == 1
    shown = sum(len(trace["locations"]) for trace in maps[0]["data"])
    assert shown == len(needs.area_deprivation(demo)) == 800


def test_the_map_colours_areas_by_need_or_by_deprivation_one_map_at_a_time(demo_env, demo):
    def maps(at: AppTest) -> list[str]:
        specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
        return [s["layout"]["title"]["text"] for s in specs if s["data"] and s["data"][0]["type"] == "choroplethmap"]
    at = run({"locality": "Eastfield"})
    assert [t.split(":")[0] for t in maps(at)] == ["Need index"]
    at.radio(key="filter_map").set_value("deprivation").run()
    assert maps(at) == ["Data zones by deprivation quintile, Eastfield"]
    assert at.query_params["map"] in ("deprivation", ["deprivation"])  # the address keeps the choice
    assert "of the" in at.caption[-1].value and "data zones in Eastfield are in quintile 1" in at.caption[-1].value
