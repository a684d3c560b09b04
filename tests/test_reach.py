"""Reach: hand-worked known answers on the tiny pack (threshold 0), suppression at threshold 5, and the
biases the demonstration generator planted."""
import json

import pandas as pd
import pytest

from analytics import fatigue, reach
from analytics.config import DEMO_PACK

# Tiny pack, ages 15+: North residents 640, South 640. The one base (aged 15+, home, age and sex F/M known):
# North R1 R2 R3 R7 R8 (5), South R4 R6 (2); R5 (no area, sex X) is outside it. Threshold 0: true counts.


def test_representation_by_locality_hand_worked(tiny):
    t = reach.representation(tiny, "locality").set_index("locality")
    assert t["respondents"].tolist() == [5, 2]
    assert t.loc["North", "respondent_share"] == pytest.approx(5 / 7)
    assert t.loc["North", "population_share"] == pytest.approx(0.5)
    assert t.loc["North", "ratio"] == pytest.approx(10 / 7)
    # Clusters: X1 is an open survey (respondents count one by one): R1 R2 R3 North, R4 R6 South → 5/4 · 5 · 0.6
    # · 0.4 = 1.5. X2 (R7 R8, both North) is a lone activity: (2 − 5/7 · 2)² = 16/49. Σ 1.826531 against
    # p(1−p)N = 10/7 → design effect 1.278571. Degrees of freedom: ρ = (1.278571·7 − 5 − 2)/2 = 0.975, X2 weighs
    # 2(1 + ρ) = 3.95 with 1 degree of freedom, X1 weighs 5 with 4: (8.95)² / (25/4 + 3.95²) = 3.665598.
    # Viewers learn the design rounded (issue 18): design effect up to 1.3, degrees of freedom down to 3, so
    # t = 3.182446 and the effective size is 7/1.3 · (1.959964/3.182446)² = 2.042343. Wilson for 5/7 on
    # 2.042343: (0.183465, 0.965298); ÷ 0.5.
    assert t.loc["North", "design_effect"] == pytest.approx(1.3)
    assert t.loc["North", "ratio_low"] == pytest.approx(0.366930, abs=1e-5)
    assert t.loc["North", "ratio_high"] == pytest.approx(1.930595, abs=1e-5)
    assert t.loc["North", "flag"] == "in line"
    assert reach.clustering(tiny, "locality") == pytest.approx({"activities": 1, "open_surveys": 1,
                                                               "design_effect": 1.3, "wider": 1.140175})


def test_representation_by_sex_excludes_unknown_and_x(tiny):
    t = reach.representation(tiny, "sex").set_index("sex")
    # F: R1 R2 R4 R7; M: R3 R6 R8. R5 (X) has no population counterpart.
    assert t["respondents"].to_dict() == {"F": 4, "M": 3}
    assert t.loc["M", "ratio"] == pytest.approx((3 / 7) / 0.5)


def test_communities_against_population_and_target(tiny):
    t = reach.representation(tiny, "community").set_index("community")
    # Carers: R1 R4 R7 R8 of the base's 7 respondents; 100 (80 to 120) carers among 1,280 residents aged 15+.
    assert t.loc["Carers", "respondents"] == 4
    assert t.loc["Carers", "ratio"] == pytest.approx((4 / 7) / (100 / 1280))
    # X1 (open survey, 2 carers of 5): 5/4 · 5 · 2/5 · 3/5 = 1.5; X2 (lone, 2 of 2): (2 − 4/7·2)² = 36/49. Σ 2.234694
    # over p(1−p)N = 12/7: deff 1.303571, shown as 1.4. ρ = (1.303571·7 − 5 − 2)/2 → 1, X2 weighs 4 with 1 degree
    # of freedom: df = 9² / (25/4 + 16) = 3.640449, used as 3; t = 3.182446, effective size 7/1.4 · (1.959964 /
    # 3.182446)² = 1.896461; Wilson for 4/7: (0.115880, 0.931337). The share's range is 80/1280 to 120/1280 =
    # 0.0625 to 0.09375: ratio interval 0.115880/0.09375 to 0.931337/0.0625.
    assert t.loc["Carers", "design_effect"] == pytest.approx(1.4)
    assert t.loc["Carers", "ratio_low"] == pytest.approx(1.236048, abs=1e-5)
    assert t.loc["Carers", "ratio_high"] == pytest.approx(14.901388, abs=1e-4)
    # Over: against the range's nearer end, se = √(0.09375·0.90625·1.4/7) = 0.130354, t = 3.664, p = 0.035 on 3
    # degrees of freedom (one group: Holm is the test itself), and (4/7)/0.09375 = 6.1 > 1.25.
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
    # Periods are whole months: 4 to 31 January is January, R1 R2 R3 North and R4 R6 South.
    t = reach.representation(tiny, "locality", date_from="2025-01-04", date_to="2025-01-31").set_index("locality")
    assert t["respondents"].to_dict() == {"North": 3, "South": 2}
    assert reach.filters(date_from="2025-01-04", date_to="2025-02-03")["date_to"] == "2025-02-28"
    with pytest.raises(reach.ReachInputError, match="unknown dimension"):
        reach.representation(tiny, "religion")


def test_scores_hand_worked(tiny):
    s = reach.scores(tiny, "sex").iloc[0]
    # Population 0.5/0.5; respondents 4/7, 3/7 → Σ min = 0.5 + 3/7; rates 4/640 vs 3/640 → 0.75.
    assert s["proportional_similarity"] == pytest.approx(0.5 + 3 / 7)
    assert s["minmax_ratio"] == pytest.approx(0.75)


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
    assert t.loc["North", "per_1000"] == pytest.approx(1000 * 5 / 640)  # per 1,000 residents aged 15+
    # The locality's share of the 7 respondents with a known home has the interval worked in
    # test_representation_by_locality_hand_worked, (0.183465, 0.965298); × 7 people per 640 residents aged 15+.
    assert t.loc["North", "per_1000_low"] == pytest.approx(1000 * 0.183465 * 7 / 640, abs=1e-3)
    assert t.loc["North", "per_1000_high"] == pytest.approx(1000 * 0.965298 * 7 / 640, abs=1e-3)
    assert t.loc["North", "flag"] == "within"
    assert t.loc["North", "activities"] == 1 and t.loc["North", "participants"] == 8
    # Neighbourhood N1 is all of North: the same design-based interval.
    hood = reach.coverage_by_neighbourhood(tiny).set_index("neighbourhood_code")
    assert hood.loc["N1", ["per_1000_low", "per_1000_high"]].tolist() == pytest.approx(
        [1000 * 0.183465 * 7 / 640, 1000 * 0.965298 * 7 / 640], abs=1e-3)
    # The same flags and figures with the filter on the locality (the comparison is with the whole partnership).
    alone = reach.coverage_by_locality(tiny, locality="North").set_index("locality")
    assert alone.loc["North", ["per_1000_low", "flag"]].tolist() == t.loc["North", ["per_1000_low", "flag"]].tolist()


def test_threshold_publishes_no_count_from_one_to_four(tiny_suppressed):
    # At threshold 5, North's 5 is published as 5 (a count at the threshold is never moved, so it never falls
    # under it) and South's 2 as 0 or 5; 0 is shown as withheld, with every figure made from it.
    t = reach.representation(tiny_suppressed, "locality").set_index("locality")
    assert t.loc["North", "respondents"] == 5 and not t.loc["North", "withheld"]
    assert t.loc["South", "withheld"] == pd.isna(t.loc["South", "respondents"])
    assert t.loc["South", "withheld"] or t.loc["South", "respondents"] == 5
    hidden = t[t["withheld"]]
    assert hidden[list(reach.DERIVED) + ["respondents"]].isna().all().all()
    gaps = reach.hard_to_reach(tiny_suppressed)
    assert gaps.loc[gaps["withheld"], ["respondents", "shortfall"]].isna().all().all()
    assert (gaps.loc[~gaps["withheld"], "respondents"] >= 5).all()


# --- The demonstration pack: the biases the generator planted are found -------------------------------------

def test_most_deprived_quintile_under(demo):
    resp, pop = _pack_people()
    quintile = pd.read_csv(DEMO_PACK / "deprivation.csv", dtype={"area_code": str}).set_index("area_code")["quintile"]
    resp = resp[_base(resp) & resp["area_code"].isin(quintile.index)]
    pop = pop[_aged(pop, False)]
    heard = (resp["area_code"].map(quintile) == 1).sum()
    share = pop.loc[pop["area_code"].map(quintile) == 1, "population"].sum() / pop["population"].sum()
    t = reach.representation(demo, "quintile", exact=True).set_index("quintile")
    assert t.loc[1, "respondents"] == heard and t.loc[1, "ratio"] == pytest.approx(heard / len(resp) / share)
    published = reach.representation(demo, "quintile").set_index("quintile")
    assert abs(published.loc[1, "respondents"] - heard) <= 8  # the perturbation table's largest move
    assert t.loc[1, "flag"] == published.loc[1, "flag"] == "under"


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
    # Short of their need share but heard more than their share of residents: flagged as such, not "under", so
    # Hard to reach, Home and Engagement reach tell one story (issue 20).
    assert gaps.loc["Men aged 65-84", "flag"] == "over residents, under need"
    assert gaps.loc["Men aged 65-84", "vs_residents"] == "over"
    assert reach.representation(demo, "age_group+sex").set_index("group").loc["Men aged 65-84", "flag"] == "over"
    assert "Men aged 65-84" not in set(reach.under_reached(gaps.reset_index())["group"])


def test_scores_per_method_hand_worked(tiny):
    t = reach.scores(tiny, "sex", by="method").set_index("method")
    # Online survey: 3 women (R1 R2 R4), 2 men (R3 R6) → Σ min(0.5, 0.6) + min(0.5, 0.4) = 0.9; rates 3/640 vs
    # 2/640 → 2/3.
    assert t.loc["online_survey", "proportional_similarity"] == pytest.approx(0.9)
    assert t.loc["online_survey", "minmax_ratio"] == pytest.approx(2 / 3)
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
    # Respondents living in North: R1, R2, R7 (A1) and R3, R8 (A2) = 5 of 640 residents aged 15+.
    assert t.loc["North", "respondents"] == 5
    assert t.loc["North", "respondents_per_1000"] == pytest.approx(1000 * 5 / 640)
    # Carers: R1, R4, R7, R8 say so; the estimate for the partnership is 100 → 40 per 1,000.
    assert t.loc["Carers", "respondents"] == 4 and t.loc["Carers", "respondents_per_1000"] == pytest.approx(40)
    # At threshold 5, North's 5 is published as 5, the same as on the coverage table (the same people); Carers'
    # 4 is published as 0 (withheld, with its rate) or 5, never as 1 … 4.
    s = fatigue.contacts(tiny_suppressed).set_index("group")
    cover = reach.coverage_by_locality(tiny_suppressed).set_index("locality")
    assert s.loc["North", "respondents"] == cover.loc["North", "respondents"] == 5
    assert s.loc["Carers", "respondents"] == 5 or s.loc[["Carers"], ["respondents", "respondents_per_1000"]].isna().all().all()


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
    assert t.loc["Carers", "withheld"] and t.loc["Carers", "flag"] == "withheld"  # 4 published as 0 (tiny's key)
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


def _base(resp: pd.DataFrame) -> pd.Series:
    """Reach's one base: aged 15+, sex F or M, home area known."""
    return _aged(resp, False) & resp["sex"].isin(["F", "M"]) & resp["locality"].notna()


def test_young_men_and_older_women_match_the_pack_files(demo):
    resp, pop = _pack_people()
    resp = resp[_base(resp)]
    pop = pop[_aged(pop, False)]
    group = lambda f, sex, lo, hi: (f["sex"] == sex) & f["age_band"].str.extract(r"^(\d+)")[0].astype(int).between(lo, hi)
    t = reach.representation(demo, "age_group+sex", exact=True).set_index(["age_group", "sex"])
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
    resp = resp[(resp["method"] == "online_survey") & _base(resp)]
    residents = pop[_aged(pop, False)].groupby("locality")["population"].sum()
    named = resp.assign(community=resp["communities"].str.split(";")).explode("community")
    heard = named.groupby(["locality", "community"]).size()
    estimates = pd.read_csv(DEMO_PACK / "communities.csv").set_index(["locality", "community"])["population"]
    grid = reach.representation(demo, "locality+community", method="online_survey", exact=True)
    shown = grid[grid["respondents"].ge(5) & grid["population_share"].notna()]
    assert len(shown) >= 20
    for row in shown.itertuples():
        count = heard.get((row.locality, row.community), 0)
        assert row.respondents == count, (row.locality, row.community)
        share = estimates[(row.locality, row.community)] / residents[row.locality]
        n = (resp["locality"] == row.locality).sum()
        assert row.ratio == pytest.approx(count / n / share), (row.locality, row.community)
