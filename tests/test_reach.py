"""Reach: hand-worked known answers on the tiny pack (threshold 0), suppression at threshold 5, and the
biases the demonstration generator planted."""
import json

import pandas as pd
import pytest

from analytics import fatigue, reach
from analytics.config import DEMO_PACK

# Tiny pack, ages 15+: North residents 640, South 640. Respondents with a known home: North R1 R2 R3 R7 R8 (5),
# South R4 R6 (2); R5 has no area.


def test_representation_by_locality_hand_worked(tiny):
    t = reach.representation(tiny, "locality").set_index("locality")
    assert t["respondents"].tolist() == [5, 2]
    assert t.loc["North", "respondent_share"] == pytest.approx(5 / 7)
    assert t.loc["North", "population_share"] == pytest.approx(0.5)
    assert t.loc["North", "ratio"] == pytest.approx(10 / 7)
    # Clusters: X1 is an open survey (respondents count one by one): R1 R2 R3 North, R4 R6 South → 5/4 · 5 · 0.6
    # · 0.4 = 1.5. X2 (R7 R8, both North) is a lone activity: (2 − 5/7 · 2)² = 16/49. Σ 1.826531 against
    # p(1−p)N = 10/7 → design effect 1.278571. Degrees of freedom: ρ = (1.278571·7 − 5 − 2)/2 = 0.975, X2 weighs
    # 2(1 + ρ) = 3.95 with 1 degree of freedom, X1 weighs 5 with 4: (8.95)² / (25/4 + 3.95²) = 3.665598, so
    # t = 2.879247 and the effective size is 7/1.278571 · (1.959964/2.879247)² = 2.536948. Wilson for 5/7 on
    # 2.536948: (0.211645, 0.958815); ÷ 0.5.
    assert t.loc["North", "design_effect"] == pytest.approx(1.278571, abs=1e-6)
    assert t.loc["North", "ratio_low"] == pytest.approx(0.423290, abs=1e-5)
    assert t.loc["North", "ratio_high"] == pytest.approx(1.917630, abs=1e-5)
    assert t.loc["North", "flag"] == "in line"
    assert reach.clustering(tiny, "locality") == pytest.approx({"activities": 1, "open_surveys": 1,
                                                               "design_effect": 1.278571, "wider": 1.130739})


def test_representation_by_sex_excludes_unknown_and_x(tiny):
    t = reach.representation(tiny, "sex").set_index("sex")
    # F: R1 R2 R4 R7; M: R3 R8. R5 (X) and R6 (blank) have no population counterpart.
    assert t["respondents"].to_dict() == {"F": 4, "M": 2}
    assert t.loc["M", "ratio"] == pytest.approx((2 / 6) / 0.5)


def test_communities_against_population_and_target(tiny):
    t = reach.representation(tiny, "community").set_index("community")
    # Carers: R1 R4 R7 R8 of all 8 respondents; 100 (80 to 120) carers among 1,280 residents aged 15+.
    assert t.loc["Carers", "respondents"] == 4
    assert t.loc["Carers", "ratio"] == pytest.approx(0.5 / (100 / 1280))
    # X1 (open survey, 2 carers of 6): 6/5 · 6 · 1/3 · 2/3 = 1.6; X2 (lone, 2 of 2): (2 − 0.5·2)² = 1. Σ 2.6 over
    # p(1−p)N = 2: deff 1.3. ρ = (1.3·8 − 6 − 2)/2 = 1.2 → 1, X2 weighs 4: df = 10² / (36/5 + 16) = 4.310345,
    # t = 2.699356, effective size 8/1.3 · (1.959964/2.699356)² = 3.244310; Wilson for 0.5: (0.131850, 0.868150).
    # The share's range is 80/1280 to 120/1280 = 0.0625 to 0.09375: ratio interval 0.131850/0.09375 to
    # 0.868150/0.0625.
    assert t.loc["Carers", "design_effect"] == pytest.approx(1.3)
    assert t.loc["Carers", "ratio_low"] == pytest.approx(1.406402, abs=1e-5)
    assert t.loc["Carers", "ratio_high"] == pytest.approx(13.890397, abs=1e-4)
    # Over: against the range's nearer end, se = √(0.09375·0.90625·1.3/8) = 0.1175, t = 3.457, p = 0.023 on
    # 4.31 degrees of freedom (one group: Holm is the test itself), and 0.5/0.09375 = 5.3 > 1.25.
    assert t.loc["Carers", "flag"] == "over"
    # Gypsy/Travellers: no denominator, target 10, none heard: a count against a goal, no interval.
    assert t.loc["Gypsy/Travellers", "ratio"] == 0
    assert pd.isna(t.loc["Gypsy/Travellers", "ratio_high"])
    assert t.loc["Gypsy/Travellers", "flag"] == "under target"


def test_intersectional_cells_and_filters(tiny):
    t = reach.representation(tiny, "locality+sex").set_index(["locality", "sex"])
    assert t.loc[("North", "F"), "respondents"] == 3  # R1 R2 R7
    t = reach.representation(tiny, "locality", method="focus_group").set_index("locality")
    assert t["respondents"].to_dict() == {"North": 2, "South": 0}
    t = reach.representation(tiny, "locality", date_from="2025-01-04", date_to="2025-01-31").set_index("locality")
    assert t["respondents"].to_dict() == {"North": 1, "South": 2}  # R3; R4 R6
    with pytest.raises(reach.ReachInputError, match="unknown dimension"):
        reach.representation(tiny, "religion")


def test_scores_hand_worked(tiny):
    s = reach.scores(tiny, "sex").iloc[0]
    # Population 0.5/0.5; respondents 4/6, 2/6 → Σ min = 0.5 + 1/3; rates 4/640 vs 2/640 → 0.5.
    assert s["proportional_similarity"] == pytest.approx(0.5 + 1 / 3)
    assert s["minmax_ratio"] == pytest.approx(0.5)


def test_need_weighted_shortfall_hand_worked(tiny):
    t = reach.hard_to_reach(tiny, need="dementia", need_weight=0.5)
    t = t[t["kind"] == "Locality"].set_index("group")
    # Need: North 6 + 4.8 = 10.8, South 3.6 + 3.2 = 6.8 (of 17.6); population shares 0.5 each.
    share_south = 0.5 * 0.5 + 0.5 * 6.8 / 17.6
    assert t.loc["South", "expected"] == pytest.approx(7 * share_south)
    assert t.loc["South", "shortfall"] == pytest.approx(7 * share_south - 2)
    assert t.loc["North", "shortfall"] == pytest.approx(7 * (1 - share_south) - 5)
    assert t.loc["South", "shortfall_low"] < t.loc["South", "shortfall"] < t.loc["South", "shortfall_high"]


def test_coverage_rates_and_flags(tiny):
    t = reach.coverage_by_locality(tiny).set_index("locality")
    assert t.loc["North", "per_1000"] == pytest.approx(1000 * 5 / 760)
    # The locality's share of the 7 respondents with a known home has the interval worked in
    # test_representation_by_locality_hand_worked, (0.211645, 0.958815); × 7 people per 760 residents.
    assert t.loc["North", "per_1000_low"] == pytest.approx(1000 * 0.211645 * 7 / 760, abs=1e-3)
    assert t.loc["North", "per_1000_high"] == pytest.approx(1000 * 0.958815 * 7 / 760, abs=1e-3)
    assert t.loc["North", "flag"] == "within"
    assert t.loc["North", "activities"] == 1 and t.loc["North", "participants"] == 8
    # Neighbourhood N1 is all of North: the same design-based interval.
    hood = reach.coverage_by_neighbourhood(tiny).set_index("neighbourhood_code")
    assert hood.loc["N1", ["per_1000_low", "per_1000_high"]].tolist() == pytest.approx(
        [1000 * 0.211645 * 7 / 760, 1000 * 0.958815 * 7 / 760], abs=1e-3)
    # The same flags and figures with the filter on the locality (the comparison is with the whole partnership).
    alone = reach.coverage_by_locality(tiny, locality="North").set_index("locality")
    assert alone.loc["North", ["per_1000_low", "flag"]].tolist() == t.loc["North", ["per_1000_low", "flag"]].tolist()


def test_threshold_withholds_counts_and_what_gives_them_away(tiny_suppressed):
    t = reach.representation(tiny_suppressed, "locality")
    assert t["withheld"].all() and t[list(reach.DERIVED) + ["respondents"]].isna().all().all()
    gaps = reach.hard_to_reach(tiny_suppressed)
    assert gaps.loc[gaps["withheld"], ["respondents", "shortfall"]].isna().all().all()
    shown = gaps.loc[~gaps["withheld"], "respondents"]
    assert (shown >= 5).all()


# --- The demonstration pack: the biases the generator planted are found -------------------------------------

def test_most_deprived_quintile_under(demo):
    resp, pop = _pack_people()
    quintile = pd.read_csv(DEMO_PACK / "deprivation.csv", dtype={"area_code": str}).set_index("area_code")["quintile"]
    resp = resp[_aged(resp, True) & resp["area_code"].isin(quintile.index)]
    pop = pop[_aged(pop, False)]
    heard = (resp["area_code"].map(quintile) == 1).sum()
    share = pop.loc[pop["area_code"].map(quintile) == 1, "population"].sum() / pop["population"].sum()
    t = reach.representation(demo, "quintile").set_index("quintile")
    assert t.loc[1, "respondents"] == heard and t.loc[1, "ratio"] == pytest.approx(heard / len(resp) / share)
    assert t.loc[1, "flag"] == "under"


def test_barely_heard_identity_groups_under(demo):
    t = reach.representation(demo, "community").set_index("community")
    for group in ("LGBT+", "Minority ethnic people"):
        assert t.loc[group, "flag"] == "under", group
    for group in ("Gypsy/Travellers", "Refugees and asylum seekers"):  # no estimate: measured against a target
        assert t.loc[group, "flag"] == "under target", group


def test_over_consulted_locality_in_fatigue_view(demo):
    contacts = fatigue.contacts(demo)
    local = contacts[contacts["kind"] == "Locality"].set_index("group")
    assert local["activities_per_10k"].idxmax() == "Westhaven"
    assert local.loc["Westhaven", "flag"] == "asked too often"
    assert (local.drop("Westhaven")["flag"] == "").all()
    assert len(fatigue.overlaps(demo)) > 0


def test_demo_gaps_rank_young_men_and_deprived_areas_high(demo):
    gaps = reach.hard_to_reach(demo)
    top = gaps.head(15)["group"].tolist()
    assert any("Men" in g and "15-34" in g for g in top), top


def test_demo_top_gaps_tell_the_planted_story(demo):
    """The home page's five gaps: never a group heard more than in proportion to its residents (older women
    and men are over-represented in the demonstration pack), and the barely-heard groups are among them."""
    from analytics import home
    over = set(reach.representation(demo, "age_group+sex").query("flag == 'over'")["group"])
    assert {"Women aged 65-84", "Men aged 65-84"} <= over
    top = home.under_reached(demo).head(5)
    assert len(top) == 5 and not set(top["group"]) & over
    assert {"Young people (16-24)", "Men aged 15-34"} <= set(top["group"]), top["group"].tolist()
    # The most deprived fifth is under against its residents; against residents and need together (older
    # people's need weighs on the other quintiles) its ratio is 0.80, on the band's edge, so it is not flagged.
    quintile = reach.hard_to_reach(demo).set_index("group").loc["Quintile 1"]
    assert quintile["vs_residents"] == "under" and quintile["ratio"] == pytest.approx(0.80, abs=0.005)
    gaps = reach.hard_to_reach(demo).set_index("group")
    assert gaps.loc["Men aged 65-84", "flag"] == "under" and gaps.loc["Men aged 65-84", "vs_residents"] == "over"
    assert "Men aged 65-84" not in set(reach.under_reached(gaps.reset_index())["group"])


def test_scores_per_method_hand_worked(tiny):
    t = reach.scores(tiny, "sex", by="method").set_index("method")
    # Online survey: 3 women, 1 man → Σ min(0.5, 0.75) + min(0.5, 0.25) = 0.75; rates 3/640 vs 1/640 → 1/3.
    assert t.loc["online_survey", "proportional_similarity"] == pytest.approx(0.75)
    assert t.loc["online_survey", "minmax_ratio"] == pytest.approx(1 / 3)
    # Focus group: 1 woman, 1 man → the shares match the population's exactly.
    assert t.loc["focus_group", ["proportional_similarity", "minmax_ratio"]].tolist() == pytest.approx([1, 1])
    empty = reach.scores(tiny, "sex", by="method", method="meeting")  # no one heard: a table, not an error
    assert empty.empty and {"method", "respondents", "proportional_similarity"} <= set(empty.columns)


def test_demo_localities_are_not_flagged_on_a_handful_of_large_local_surveys(demo):
    """Westhaven ran 66 activities and its respondents per 1,000 are twice the others', and its 95% interval lies
    above the partnership's rate; but its share rests on a few large local surveys (the locality design effect
    is about 25, on about 9 degrees of freedom), so over six localities chance is not ruled out: no flag.
    Fatigue (test_over_consulted_locality_in_fatigue_view) is where Westhaven's over-consultation shows."""
    t = reach.coverage_by_locality(demo).set_index("locality")
    assert t["per_1000"].idxmax() == "Westhaven"
    assert t.loc["Westhaven", "per_1000_low"] > reach.overall_rate(demo)
    assert (t["flag"] == "within").all()
    assert reach.clustering(demo, "locality")["design_effect"] > 20


def test_fatigue_counts_who_answered_hand_worked(tiny, tiny_suppressed):
    t = fatigue.contacts(tiny).set_index("group")  # North (activity X2) and Carers (X2's community)
    # Respondents living in North: R1, R2, R7 (A1) and R3, R8 (A2) = 5 of 760 residents.
    assert t.loc["North", "respondents"] == 5
    assert t.loc["North", "respondents_per_1000"] == pytest.approx(1000 * 5 / 760)
    # Carers: R1, R4, R7, R8 say so; the estimate for the partnership is 100 → 40 per 1,000.
    assert t.loc["Carers", "respondents"] == 4 and t.loc["Carers", "respondents_per_1000"] == pytest.approx(40)
    # At threshold 5, South's 2 is withheld, so North's 5 is too (with the partnership's 7 shown elsewhere it
    # would give South's away), though South has no row here; Carers' 4 is withheld; and every rate with them.
    s = fatigue.contacts(tiny_suppressed).set_index("group")
    assert s[["respondents", "respondents_per_1000"]].isna().all().all()


def test_a_withheld_groups_flag_never_bounds_its_count(tmp_path):
    """At threshold 5 the tiny pack's Carers (4 heard) are withheld. Shown, their flag 'over' would say that at
    least so many were heard; instead it is 'withheld', since at the most a withheld count can be (4 of 7, share
    100/1520) it could be anything. Gypsy/Travellers, 0 heard against a target of 100, stay 'under target': any
    withheld count (at most 4) is under 100, so the flag says nothing withholding does not."""
    from analytics.build import build
    from analytics.db import Store
    from tests.packs import FILES, write_tiny_pack
    communities = FILES["communities.csv"].replace("Gypsy/Travellers,identity,All,,,,10,",
                                                   "Gypsy/Travellers,identity,All,,,,100,")
    pack = write_tiny_pack(tmp_path / "pack", {"communities.csv": communities})
    build(pack, tmp_path / "store.duckdb")
    t = reach.representation(Store(tmp_path / "store.duckdb"), "community").set_index("group")
    assert t.loc["Carers", "withheld"] and t.loc["Carers", "flag"] == "withheld"
    assert t.loc["Gypsy/Travellers", "withheld"] and t.loc["Gypsy/Travellers", "flag"] == "under target"
    assert not [c for c in t.columns if c.startswith("_")]


# --- The demonstration pack against figures computed from its CSV files with pandas, not the store's SQL ------

def _pack_people() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Respondents (with their home locality and activity method) and residents, read from data/demo's files."""
    areas = pd.DataFrame([f["properties"] for f in json.loads((DEMO_PACK / "areas.geojson").read_text())["features"]])
    home = areas.set_index("area_code")["locality"]
    acts = pd.read_csv(DEMO_PACK / "activities.csv").set_index("activity_id")
    resp = pd.read_csv(DEMO_PACK / "responses.csv", dtype=str, keep_default_na=False)
    resp["locality"] = resp["area_code"].map(home)
    resp["method"] = resp["activity_id"].map(acts["method"])
    pop = pd.read_csv(DEMO_PACK / "population.csv", dtype={"area_code": str})
    pop["locality"] = pop["area_code"].map(home)
    return resp, pop


def _aged(frame: pd.DataFrame, blank_ok: bool) -> pd.Series:
    low = pd.to_numeric(frame["age_band"].str.extract(r"^(\d+)")[0], errors="coerce")
    return (low >= 15) | (low.isna() & blank_ok)


def test_young_men_and_older_women_match_the_pack_files(demo):
    resp, pop = _pack_people()
    resp = resp[_aged(resp, False) & resp["sex"].isin(["F", "M"])]
    pop = pop[_aged(pop, False)]
    group = lambda f, sex, lo, hi: (f["sex"] == sex) & f["age_band"].str.extract(r"^(\d+)")[0].astype(int).between(lo, hi)
    t = reach.representation(demo, "age_group+sex").set_index(["age_group", "sex"])
    for key, (sex, lo, hi) in {("15-34", "M"): ("M", 15, 34), ("65-84", "F"): ("F", 65, 84)}.items():
        heard = group(resp, sex, lo, hi).sum()
        share = pop.loc[group(pop, sex, lo, hi), "population"].sum() / pop["population"].sum()
        assert t.loc[key, "respondents"] == heard
        assert t.loc[key, "ratio"] == pytest.approx(heard / len(resp) / share)
    assert t.loc[("15-34", "M"), "ratio"] < 0.4 and t.loc[("15-34", "M"), "ratio_high"] < 0.8
    assert t.loc[("15-34", "M"), "flag"] == "under" and t.loc[("65-84", "F"), "flag"] == "over"


def test_locality_by_community_matches_the_pack_files(demo):
    # Each cell of the heatmap (online surveys only): respondents living in the locality who name the community,
    # as a share of that locality's respondents aged 15+ (or of unknown age), over the community's estimate as a
    # share of the locality's residents aged 15+, all counted with pandas from the CSV files.
    resp, pop = _pack_people()
    resp = resp[(resp["method"] == "online_survey") & _aged(resp, True) & resp["locality"].notna()]
    residents = pop[_aged(pop, False)].groupby("locality")["population"].sum()
    named = resp.assign(community=resp["communities"].str.split(";")).explode("community")
    heard = named.groupby(["locality", "community"]).size()
    estimates = pd.read_csv(DEMO_PACK / "communities.csv").set_index(["locality", "community"])["population"]
    grid = reach.representation(demo, "locality+community", method="online_survey")
    shown = grid[~grid["withheld"] & grid["population_share"].notna()]
    assert len(shown) >= 20
    for row in shown.itertuples():
        count = heard.get((row.locality, row.community), 0)
        assert row.respondents == count, (row.locality, row.community)
        share = estimates[(row.locality, row.community)] / residents[row.locality]
        n = (resp["locality"] == row.locality).sum()
        assert row.ratio == pytest.approx(count / n / share), (row.locality, row.community)
