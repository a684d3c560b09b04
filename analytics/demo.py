"""The demonstration area pack: Invercarron, a fictional Scottish city and its health and social care partnership.

`python -m analytics.demo [--country C] [--out PATH] [--areas N] [--responses M] [--seed S]` writes a complete area
pack and engagement ledger (../shared/SCHEMA.md) to data/demo/. Every figure is synthetic, but shaped like the real
thing: Voronoi small areas that are smaller in the centre, a river the areas do not cross, a Scottish age
structure tilted by locality, clustered deprivation, a cohort-component projection whose student migration
keeps the university's 15-24s in place, and a year of engagement in which the usual biases are planted by
*sampling* respondents (older women and the least deprived answer more; young men, the most deprived and some
communities are barely heard; Westhaven is over-consulted).

`--country england` writes the English example instead: Aldermere, a fictional ICS place with LSOA-like areas
(E01…) in MSOA-like neighbourhoods (E02…), IMD 2019 ranks on England's 32,844 LSOAs, England's age shape and its
Census 2021 community shares. It is the same city under other names: the generator works in the Scottish
example's names throughout (demo_insight plants its themes on them too) and `Country.renames` puts England's on
everything it writes. `Country` holds all that differs between the two.

Deterministic: each part draws from its own numpy generator seeded from (seed, part name), rows are sorted,
numbers have fixed formats and nothing depends on the clock, so the same arguments give byte-identical files.
"""
from __future__ import annotations

import argparse
import json
import re
import time
import zlib
from dataclasses import dataclass, field, replace
from typing import Callable, NamedTuple
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.cluster.vq import kmeans2
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from analytics import demo_insight
from analytics.config import AGE_BANDS, ALL_LOCALITIES, DEMO_PACK, SURVEY_METHODS, band_lower
from analytics.importers.communities import DEFAULTS

PACK_NAME = "Invercarron HSCP (demonstration)"
CENTRE_LON, CENTRE_LAT = -3.55, 56.02
HALF_WIDTH, HALF_HEIGHT = 12_500.0, 9_000.0  # metres: a city about 25 km by 18 km
RIVER_HALF_WIDTH = 75.0
NATIONAL_ZONES = 6976  # Scotland's data zones: ranks are drawn on this national scale
BASE_YEAR, LAST_YEAR = 2024, 2045
PERIOD_START, PERIOD_DAYS = np.datetime64("2025-09-01"), 365  # the strategic-plan review, to 2026-08-31
MIN_GROUP, MAX_GROUP = 5, 10  # data zones per intermediate zone

LOCALITIES = ("City Centre & University", "Eastfield", "North Carron", "Riverside", "Westhaven", "South Braes")
CITY_CENTRE, ALL = LOCALITIES[0], ALL_LOCALITIES
CENTRE_SHARE = 0.17  # the innermost areas form the centre locality; the rest are sectors around it
# Outer sectors, degrees anticlockwise from east, starting at -40: Riverside, Eastfield, North Carron, …
SECTOR_EDGES = np.array([65, 135, 200, 270])
LOWER = np.array([band_lower(b) for b in AGE_BANDS])

# Scotland's mid-year shape (% of everyone in each band) and the female share of each band, rounded.
SCOTLAND_SHARE = np.array([4.7, 5.2, 5.5, 5.3, 6.0, 6.3, 6.4, 6.1, 5.8, 5.9, 6.9, 7.2, 6.8, 5.8, 5.3, 4.4,
                           2.8, 1.3, 0.7])
FEMALE_SHARE = np.array([0.487] * 4 + [0.505] * 8 + [0.51, 0.52, 0.53, 0.545, 0.57, 0.62, 0.70])


def _age_tilt(*spans: tuple[int, int, float]) -> np.ndarray:
    """Multipliers by band from (first band's lower age, last band's lower age, factor) spans."""
    tilt = np.ones(len(AGE_BANDS))
    for first, last, factor in spans:
        tilt[(LOWER >= first) & (LOWER <= last)] *= factor
    return tilt


AGE_TILT = np.array([
    _age_tilt((0, 10, 0.6), (15, 15, 3.0), (20, 20, 3.5), (25, 25, 1.5), (65, 90, 0.7)),  # students
    _age_tilt((0, 10, 1.25), (20, 35, 1.2), (65, 70, 0.8), (75, 90, 0.6), (85, 90, 0.8)),  # younger, shorter lives
    _age_tilt(),
    _age_tilt((25, 35, 1.1)),
    _age_tilt((20, 30, 0.8), (65, 90, 1.6), (85, 90, 1.25)),  # the oldest: 65+ x1.6, 85+ x2
    _age_tilt((0, 10, 1.1), (40, 50, 1.1)),  # family suburbs
])

# Deprivation field: Gaussian bumps (x, y in half-widths of the city, width, strength); + is more deprived.
DEPRIVATION_BUMPS = ((0.28, 0.47, 0.25, 1.1), (-0.20, 0.56, 0.20, 0.7), (0.06, -0.04, 0.10, 0.9),
                     (0.05, -0.60, 0.35, -0.8), (-0.65, 0.0, 0.35, -0.9))
DOMAIN_LINK = {"income": 0.92, "employment": 0.9, "health": 0.82, "education": 0.78, "access": 0.25,
               "crime": 0.6, "housing": 0.5}  # correlation of each domain with the overall score

PLACE_NAMES = (
    "Carron Bridge", "Kirkton", "Mossend Park", "Auchenlea", "Balcraig", "Craigburn", "Dalhaugh", "Drumloan",
    "Glenwhinny", "Kilbrae", "Pitmuir", "Strathlea", "Bankfoot Row", "Burnside", "Hillfoot", "Netherknowe",
    "Westmuir", "Easterhaugh", "Whinnyburn", "Bonnyside", "Parkhill", "Cairnlea", "Drumshaw", "Harlaw",
    "Inchview", "Lochside", "Milnfield", "Newlands Cross", "Overtoun", "Redburn", "Stonehaugh", "Woodend",
    "Abbotsgrange", "Blackhall Mains", "Broomridge", "Castleview", "Corsehill", "Dalreoch", "Fernbank",
    "Gallowknowe", "Greenloan", "Hawkhead", "Knowetop", "Langhaugh", "Lochgreen", "Maidenhill", "Muirhouse",
    "Nethercraigs", "Orchardton", "Pitcairn Green", "Quarrybrae", "Rosebank", "Sauchiebrae", "Shawfield",
    "Springbank", "Tullochgorm", "Wellfield", "Whitecrook", "Windyedge", "Auchinloan", "Balmore Road",
    "Birkenhaugh", "Blairlinn", "Braehead Mill", "Brigend", "Burnbrae", "Carronvale", "Carronside",
    "Cloberknowe", "Crossgates", "Cuthill", "Dovecotland", "Forthview", "Gairdoch", "Glenburn", "Grangemuir",
    "Heathfield", "Inchyra", "Kersiebank", "Kinnaird Green", "Lochlands", "Mains of Carron", "Meadowbank",
    "Millhall", "Newhouse", "Oakbank", "Old Carron", "Pirleyhill", "Queensgate", "Ralston Park", "Rullion Brae",
    "Sandyknowes", "Stenhouse", "Torwood Lea", "Tryst Park", "Union Brae", "Victoria Quay", "Waterside",
    "Weedingshall", "Whitecross", "Woodlands Rise", "Yardheads", "Abbeyfield", "Arnothill", "Bantaskine",
    "Beancross", "Blinkbonny", "Bowhouse", "Cobblebrae", "Drumbowie", "Easterton", "Glensburgh", "Hillview",
    "Kirkmuir", "Lathallan Park", "Linnbank", "Nailer Row", "Parkfoot", "Powfoulis", "Shieldknowe",
    "Stanecastle", "Summerford", "Thornhill Brae", "Craigieloan", "Balquhidder Road", "Dunmore Gate",
    "Kilncraigs", "Langlees Park", "Mungalhead", "Randyford", "Sunnyside Haugh",
)
QUALIFIERS = ("North", "South", "East", "West", "Upper", "Lower", "Old", "New", "Wester", "Easter", "Mid")

PRIORITIES = (("P1", "Early intervention and prevention"), ("P2", "Supporting unpaid carers"),
              ("P3", "Mental health and wellbeing"), ("P4", "Care at home and reablement"),
              ("P5", "Tackling health inequalities"), ("P6", "Digital access to services"),
              ("P7", "Community-led support"))


@dataclass(frozen=True)
class Community:
    """A community of identity or interest: its population share (None: no reliable denominator), the ages it
    covers, locality tilts (in LOCALITIES order), and `heard`, the chance an eligible respondent belongs."""

    name: str
    kind: str
    ages: tuple[int, int]
    share: float | None
    spread: float  # half-width of the population_low/high range, as a fraction
    heard: float
    source: str
    tilt: tuple[float, ...] = (1, 1, 1, 1, 1, 1)
    targets: tuple[int, ...] = ()  # target_min per locality, where share is None


def _census(topic: str) -> str:
    return f"Synthetic share modelled on Scotland's Census 2022 ({topic})"


NO_DENOMINATOR = "Synthetic minimum for the demonstration: no reliable local population estimate exists"
COMMUNITIES = (
    Community("Unpaid carers", "interest", (3, 120), 0.12, 0.2, 0.20, _census("provision of unpaid care"),
              (0.8, 1.1, 1.05, 1, 1.1, 1)),
    Community("Disabled people", "identity", (0, 120), 0.24, 0.15, 0.30,
              _census("day-to-day activities limited by a long-term condition"), (0.8, 1.25, 1.1, 1, 1.1, 0.85)),
    Community("Minority ethnic people", "identity", (0, 120), 0.07, 0.25, 0.02, _census("non-white ethnic groups"),
              (2.2, 1.6, 0.8, 0.9, 0.4, 0.6)),
    Community("LGBT+", "identity", (16, 120), 0.04, 0.3, 0.012, _census("sexual orientation"),
              (1.8, 1, 0.9, 1, 0.7, 0.8)),
    Community("Young people (16-24)", "interest", (16, 24), 1.0, 0.15, 1.0,
              "Demonstration population file (population.csv), ages 16 to 24"),
    Community("Older people living alone", "interest", (65, 120), 0.35, 0.2, 0.38,
              _census("one-person households aged 65 and over"), (1.1, 1, 1, 1, 1.2, 0.9)),
    Community("Veterans", "identity", (16, 120), 0.03, 0.25, 0.035, _census("previously served in the UK armed forces"),
              (0.6, 1, 1.1, 1, 1.3, 1)),
    Community("British Sign Language users", "identity", (0, 120), 0.0025, 0.3, 0.0015, _census("uses BSL")),
    Community("People with a learning disability", "identity", (18, 120), 0.005, 0.25, 0.003,
              "Synthetic share modelled on SCLD Learning Disability Statistics Scotland"),
    Community("People in recovery from addiction", "interest", (18, 120), None, 0, 0.006, NO_DENOMINATOR,
              (1.3, 1.6, 1.1, 1, 0.6, 0.5), (30, 40, 30, 20, 15, 15)),
    Community("People experiencing homelessness", "interest", (16, 120), None, 0, 0.003, NO_DENOMINATOR,
              (2, 1.3, 1, 1, 0.5, 0.4), (30, 25, 15, 15, 10, 10)),
    Community("Gypsy/Travellers", "identity", (0, 120), None, 0, 0.0004, NO_DENOMINATOR,
              (0.5, 1.5, 0.7, 2, 0.7, 0.7), (5, 10, 5, 10, 5, 5)),
    Community("Refugees and asylum seekers", "identity", (0, 120), None, 0, 0.0012, NO_DENOMINATOR,
              (2, 1.8, 0.8, 0.8, 0.3, 0.3), (25, 20, 10, 10, 5, 5)),
)
COMMUNITY_INDEX = {c.name: i for i, c in enumerate(COMMUNITIES)}

# (indicator, label, source, [(first band lower age, last band lower age, rate men, rate women)])
NEED_INDICATORS = (
    ("dementia", "People living with dementia",
     "Alzheimer Europe (2019) Dementia in Europe Yearbook 2019, prevalence by age and sex",
     [(60, 60, 0.002, 0.009), (65, 65, 0.015, 0.019), (70, 70, 0.034, 0.043), (75, 75, 0.089, 0.074),
      (80, 80, 0.131, 0.159), (85, 85, 0.249, 0.281), (90, 90, 0.330, 0.444)]),
    ("frailty", "Frail older people",
     "Collard RM et al. (2012) Prevalence of frailty in community-dwelling older persons: a systematic review. "
     "J Am Geriatr Soc 60:1487-92",
     [(65, 65, 0.04, 0.04), (70, 70, 0.07, 0.07), (75, 75, 0.09, 0.09), (80, 80, 0.16, 0.16), (85, 90, 0.26, 0.26)]),
    ("falls", "Older people who fall each year",
     "NICE CG161 (2013) Falls in older people: about 1 in 3 people aged 65+ and half of those 80+ fall at least "
     "once a year", [(65, 75, 0.30, 0.30), (80, 90, 0.50, 0.50)]),
    ("sight_loss", "People living with sight loss",
     "RNIB / Access Economics (2009) Future sight loss UK: one in five people aged 75+ and one in two aged 90+",
     [(75, 85, 0.20, 0.20), (90, 90, 0.50, 0.50)]),
    ("hearing_loss", "People aged 70+ with hearing loss",
     "Action on Hearing Loss (2015) Hearing Matters: 71.1% of people aged over 70", [(70, 90, 0.711, 0.711)]),
    ("multimorbidity", "People aged 65+ with two or more long-term conditions",
     "Barnett K et al. (2012) Epidemiology of multimorbidity and implications for health care, research, and "
     "medical education: a cross-sectional study. Lancet 380:37-43", [(65, 80, 0.649, 0.649), (85, 90, 0.815, 0.815)]),
)
GRADIENT_SOURCE = ("Illustrative gradient after Barnett et al. (2012): multimorbidity begins 10-15 years earlier "
                   "in the most deprived areas")
MULTIMORBIDITY_GRADIENT = (1.20, 1.10, 1.00, 0.93, 0.87)

# Annual probability of dying by band for men, Scotland-like up to 84. The 85+ rates are set above life-table
# values: moving a fifth of 80-84 up each year overstates the flow into 85+ while a large cohort climbs the band.
MORTALITY_MEN = np.array([0.0007, 0.0001, 0.0001, 0.00025, 0.0005, 0.0007, 0.00085, 0.0012, 0.0017, 0.0026, 0.0038,
                          0.006, 0.0094, 0.0145, 0.023, 0.045, 0.075, 0.21, 0.40])
WOMEN_MORTALITY_RATIO = np.where(LOWER >= 85, 0.85, np.where(LOWER >= 75, 0.7, 0.6))  # the gap narrows with age
FERTILITY = np.array([0, 0, 0, .008, .035, .07, .085, .055, .012] + [0] * 10)  # births per woman per year
MIGRATION_AGES = np.array([.06, .04, .02, .08, .25, .25, .16, .08, .04, .02] + [0] * 9)  # net migrants by band
# Student turnover, on top: the universities take a steady intake at 17-19 (some at 20-24) and most leave at 22-26,
# so the City Centre's student bulge (its tilt at 15-29) stays put rather than ageing into its thirties.
STUDENT_BANDS = ("15-19", "20-24", "25-29", "30-34")
# variant: (yearly fall in mortality, net migration as a share of the population per year, fertility multiplier)
VARIANTS = {"principal": (0.012, 0.0035, 1.0), "high": (0.018, 0.0055, 1.05), "low": (0.006, 0.0015, 0.95)}

# Who answers: relative propensity by sex and band (F, M), deprivation quintile and locality.
RESPONSE_WEIGHT = np.array([
    [0, 0, 0.03, 0.55, 0.7, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.45, 1.5, 1.6, 1.6, 1.5, 1.35, 0.8, 0.45],
    [0, 0, 0.02, 0.3, 0.3, 0.35, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.2, 1.1, 1.0, 0.7, 0.4]])
QUINTILE_WEIGHT = np.array([0.7, 0.8, 0.9, 0.95, 1.0])
LOCALITY_WEIGHT = np.array([1.0, 1.0, 1.0, 1.0, 1.5, 1.0])
CONSULTATION = np.array([1.0, 1.0, 1.0, 1.0, 2.6, 1.0])  # activities per head, relative: Westhaven is over-asked


class Partner(NamedTuple):
    name: str
    home: str  # the locality it works in, or "All"
    methods: str  # space-separated
    communities: str = ""  # ';'-joined communities it usually works with


HSCP_TEAM = "Invercarron HSCP Engagement Team"
PARTNERS = (
    Partner(HSCP_TEAM, ALL, "meeting presentation event focus_group"),
    Partner("Invercarron Council for Voluntary Service", ALL, "meeting presentation event"),
    Partner("Carron Carers Centre", ALL, "focus_group meeting interview", "Unpaid carers"),
    Partner("Eastfield Community Health Project", "Eastfield", "event focus_group meeting"),
    Partner("Westhaven Age Concern", "Westhaven", "meeting focus_group event", "Older people living alone"),
    Partner("Westhaven Community Council", "Westhaven", "meeting presentation"),
    Partner("Minority Ethnic Carers Forum", CITY_CENTRE, "focus_group meeting",
             "Minority ethnic people;Unpaid carers"),
    Partner("Invercarron Deaf Club", CITY_CENTRE, "focus_group meeting", "British Sign Language users"),
    Partner("Recovery Network Invercarron", "Eastfield", "focus_group interview", "People in recovery from addiction"),
    Partner("LGBT Youth Invercarron", CITY_CENTRE, "focus_group event", "LGBT+;Young people (16-24)"),
    Partner("Travellers' Support Project", "Riverside", "interview focus_group", "Gypsy/Travellers"),
    Partner("Carron Valley Disability Forum", ALL, "meeting focus_group",
             "Disabled people;People with a learning disability"),
    Partner("Invercarron Youth Forum", ALL, "event focus_group", "Young people (16-24)"),
    Partner("North Carron Community Council", "North Carron", "meeting presentation"),
    Partner("South Braes Community Council", "South Braes", "meeting presentation"),
    Partner("Riverside Tenants' Association", "Riverside", "meeting event"),
    Partner("Invercarron University Students' Association", CITY_CENTRE, "event presentation",
             "Young people (16-24)"),
    Partner("Invercarron Veterans' Breakfast Club", ALL, "meeting", "Veterans"),
    Partner("New Scots Welcome Network", "Eastfield", "focus_group interview", "Refugees and asylum seekers"),
    Partner("Invercarron Homelessness Action", CITY_CENTRE, "interview focus_group",
             "People experiencing homelessness"),
)
# Surveys: (title, method, partner, locality, first day, last day, communities, share of responses it attracts).
# Locality "each" means one survey per locality on dates drawn at random.
SURVEYS = (
    ("Strategic plan review: have your say", "online_survey", HSCP_TEAM, ALL, 14, 102, "", 10.0),
    ("Strategic plan review: paper questionnaire", "paper_survey", HSCP_TEAM, ALL, 14, 102, "", 2.5),
    ("Draft strategic plan consultation", "online_survey", HSCP_TEAM, ALL, 182, 270, "", 6.0),
    ("Draft strategic plan consultation: paper and easy-read", "paper_survey", HSCP_TEAM, ALL, 182, 270, "", 1.5),
    ("{place} health and care survey", "online_survey", HSCP_TEAM, "each", 0, 0, "", 2.5),
    ("Carers' experiences survey", "online_survey", "Carron Carers Centre", ALL, 40, 110, "Unpaid carers", 1.5),
    ("Student health and wellbeing survey", "online_survey", "Invercarron University Students' Association",
     CITY_CENTRE, 30, 75, "Young people (16-24)", 1.5),
    ("Westhaven older people's questionnaire", "paper_survey", "Westhaven Age Concern", "Westhaven", 60, 150,
     "Older people living alone", 2.0),
    ("LGBT+ young people's survey", "online_survey", "LGBT Youth Invercarron", CITY_CENTRE, 200, 250,
     "LGBT+;Young people (16-24)", 0.5),
)
ACTIVITIES = 200
TITLES = {
    "meeting": ("{partner}: {topic}", "Community conversation: {topic}"),
    "presentation": ("Strategic plan briefing for {partner}", "Presentation: {topic}"),
    "focus_group": ("Focus group: {topic}", "Focus group ({group}): {topic}"),
    "interview": ("One-to-one interview: {topic}", "One-to-one conversation: {topic}"),
    "event": ("{place} health and wellbeing fair", "Drop-in information day: {topic}"),
}
# How each method is held: (modes, their probabilities), head count range.
MODE_CHOICES = {"meeting": (("in_person", "virtual", "hybrid"), (0.7, 0.15, 0.15)),
                "presentation": (("in_person", "hybrid", "virtual"), (0.6, 0.2, 0.2)),
                "focus_group": (("in_person", "virtual"), (0.8, 0.2)), "interview": (("in_person", "remote"), (.5, .5)),
                "event": (("in_person",), (1.0,)), "online_survey": (("remote",), (1.0,)),
                "paper_survey": (("remote",), (1.0,))}
HEADCOUNT = {"meeting": (8, 40), "presentation": (20, 120), "focus_group": (6, 12), "interview": (1, 1),
             "event": (30, 300), "online_survey": (0, 0), "paper_survey": (0, 0)}


# --- the two examples: Scotland's and England's ---------------------------------------------------------------

@dataclass(frozen=True)
class Country:
    """What the Scottish and English examples do not share; the rest of the module serves both."""

    key: str  # pack.toml's country
    name: str  # the pack's name, and its projections' geography
    area_label: str
    neighbourhood_label: str
    deprivation_index: str
    secret: str  # pack.toml's cell_key_secret
    codes: tuple[str, str]  # area and neighbourhood code prefixes, each followed by five digits
    centre: tuple[float, float]  # the city centre's longitude and latitude
    national: int  # small areas in the whole country: deprivation ranks are drawn on this scale
    age_share: tuple[float, ...]  # % of everyone in each band
    residents: tuple[float, float, int, int]  # per area: mean, standard deviation, fewest, most
    group: tuple[int, int, int]  # areas per neighbourhood: fewest, typical (sets k-means' k), most
    areas: int  # the default number of areas
    place_names: tuple[str, ...]
    qualifiers: tuple[str, ...]
    communities: tuple[Community, ...]
    renames: tuple[tuple[str, str], ...] = ()  # (a Scottish example's name, this example's): places, organisations

    def _renamer(self) -> Callable[[object], object]:
        names = dict(self.renames)
        # Longest first, so that an organisation named after a place is renamed as a whole.
        pattern = re.compile(rf"\b(?:{'|'.join(map(re.escape, sorted(names, key=len, reverse=True)))})\b")
        return lambda value: pattern.sub(lambda m: names[m[0]], value) if isinstance(value, str) else value

    def say(self, text: str) -> str:
        """`text` with this example's names for the Scottish example's places and organisations."""
        return str(self._renamer()(text)) if self.renames else text

    def localise(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` with `say` applied to every text cell; the same frame when nothing is renamed."""
        if not self.renames:
            return frame
        rename = self._renamer()
        text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
        return frame.assign(**{c: frame[c].map(rename) for c in text})


SCOTLAND = Country(
    key="scotland", name=PACK_NAME, area_label="data zone", neighbourhood_label="intermediate zone",
    deprivation_index="SIMD-style index (synthetic)", secret="invercarron-demonstration-only",
    codes=("S019", "S029"),  # beyond the real 2011 data zones (S01006506-S01013481) and intermediate zones
    centre=(CENTRE_LON, CENTRE_LAT), national=NATIONAL_ZONES, age_share=tuple(SCOTLAND_SHARE),
    residents=(812, 110, 520, 985), group=(MIN_GROUP, 7, MAX_GROUP), areas=800, place_names=PLACE_NAMES,
    qualifiers=QUALIFIERS, communities=COMMUNITIES)

# England's mid-2020 shape (ONS mid-year estimates, % of everyone in each band), written from memory and rounded:
# approximate, but younger than Scotland's as England's is. The female shares are taken to be Scotland's.
ENGLAND_SHARE = (5.8, 6.3, 5.9, 5.5, 6.2, 6.7, 6.8, 6.6, 6.1, 6.5, 6.9, 6.6, 5.7, 4.9, 4.9, 3.5, 2.5, 1.5, 0.9)
ENGLISH_PLACE_NAMES = (
    "Abbey Mead", "Alderbrook", "Ashcombe Rise", "Badgers Holt", "Barley Croft", "Beckfold", "Beechcote",
    "Bellfield Green", "Birchwell", "Blackthorn Common", "Bramblecote", "Brickfields", "Brockhurst End", "Brookhay",
    "Buttercross", "Canal Side", "Castle Mead", "Chalkpit Lane", "Chapel Fields", "Cherrycombe", "Church Leys",
    "Cinder Heath", "Clayhall", "Cloverdown", "Coldharbour Rise", "Coppice Hill", "Cowslip Meadows",
    "Cranbourne Green", "Dairy Fields", "Dovecote End", "Drovers Way", "Elmstead Park", "Farthing Down",
    "Fernleigh", "Ferry Lane", "Fieldgate", "Flaxlands", "Forge Green", "Foxcote", "Friars Walk", "Furzehill",
    "Glebe Farm", "Goldcrest Park", "Gorsey Bank", "Hallow Park", "Harrowden", "Hawthorn Rise", "Hayfield",
    "Hazelmere", "Heathcote", "Hillside", "Hollybush", "Hopyard", "Ivy Bank", "Kestrel Way", "Kingsmead",
    "Lambourne Fields", "Larkhill Green", "Lavender Hill", "Linden Park", "Lockside", "Longacre", "Lower Mill",
    "Maltings", "Marsh Green", "Mayfield Rise", "Meadowsweet", "Mill Race", "Millbrook", "Moorcroft",
    "Nettleford", "Nightingale Park", "Nursery Fields", "Oakleigh Rise", "Old Forge", "Orchard Leigh", "Osier Beds",
    "Paddock End", "Parsonage Fields", "Pear Tree", "Pennyfield", "Pinfold", "Poplar Grove", "Priory Park",
    "Quarry Bank", "Quayside", "Queensmead", "Rectory Green", "Ropewalk", "Rowan Heath", "Ruddle Common",
    "Saltmarsh", "Sandpits", "Sandy Lane", "Sedge Fen", "Sheepcote", "Silverbirch", "Sorrel Down", "Spinney Hill",
    "Stonecroft", "Summerleaze", "Swan Meadow", "Tanners Green", "Teasel Park", "Thistledown", "Thornleigh",
    "Tithe Barn", "Tollgate", "Townsend", "Tudor Park", "Vicarage Fields", "Water Lane", "Weavers Cross",
    "Well Meadow", "Westbrook Vale", "Wharfside", "Wheatsheaf", "Whitecroft", "Willowbank", "Windmill Hill",
    "Woodgate", "Wrenfield", "Wychwood Rise", "Yew Tree",
)
# The English example's names for the Scottish example's places and organisations (demo_insight's text included).
ENGLISH_RENAMES = {
    "Invercarron": "Aldermere", "Invercarron HSCP Engagement Team": "Aldermere Place Engagement Team",
    "Carron Carers Centre": "Aldermere Carers Hub", "Carron Valley": "Aldermere",
    "Recovery Network Invercarron": "Aldermere Recovery Network", "LGBT Youth Invercarron": "Aldermere LGBT+ Youth",
    "New Scots": "Sanctuary", "Community Council": "Parish Council", "Students' Association": "Students' Union",
    "Eastfield": "Eastholme", "North Carron": "North Wolds", "Westhaven": "Westmere", "South Braes": "South Vale",
    "the Braes": "the Vale", "Carron Road, IV99": "Severn Road, SV99",  # a made-up address for redaction to find
}
# Communities the English importer's defaults (Census 2021) also have: their share, age base and source come from
# there, and `heard` moves with the share, so each is as under- or over-heard for its size as in Scotland.
ENGLISH_DEFAULTS = {"Unpaid carers": "Unpaid carers", "Disabled people": "Disabled people (Equality Act)",
                    "Minority ethnic people": "Minority ethnic (non-white)", "LGBT+": "LGB+ people",
                    "Veterans": "Armed forces veterans"}
ENGLISH_SOURCES = {  # the rest that cite a Scottish source keep their share and cite an English one
    "Older people living alone": "Synthetic share modelled on the 2021 Census in England (one-person households "
                                 "aged 66 and over)",
    "British Sign Language users": "Synthetic share modelled on the British Deaf Association's estimate of BSL "
                                   "users in the UK",
    "People with a learning disability": "Synthetic share modelled on GP learning disability registers in England "
                                         "(Quality and Outcomes Framework)",
}


def _english_community(c: Community, defaults: pd.DataFrame) -> Community:
    """`c` in England; `defaults`: communities_england.csv indexed by community."""
    if c.name in ENGLISH_SOURCES:
        return replace(c, source=ENGLISH_SOURCES[c.name])
    if c.name not in ENGLISH_DEFAULTS:
        return c
    row = defaults.loc[ENGLISH_DEFAULTS[c.name]]
    share, base = float(row["share"]), row["base"]
    return replace(c, share=share, heard=c.heard * share / c.share,
                   ages=(0 if base == "all" else int(base.rstrip("+")), c.ages[1]),
                   source="Synthetic share modelled on " + row["source"].split("; range")[0])


def _english_communities() -> tuple[Community, ...]:
    defaults = pd.read_csv(DEFAULTS / "communities_england.csv", dtype=str, keep_default_na=False)
    return tuple(_english_community(c, defaults.set_index("community")) for c in COMMUNITIES)


ENGLAND = Country(
    key="england", name="Aldermere ICS place (demonstration)", area_label="LSOA", neighbourhood_label="MSOA",
    deprivation_index="IMD-style index (synthetic)", secret="aldermere-demonstration-only",
    codes=("E019", "E029"),  # E019…, E029…: above every real LSOA and MSOA code, so none is a real place's
    centre=(-2.20, 51.95),  # in the Severn vale: a map of the pack falls in England
    national=32_844,  # IMD 2019's LSOAs (2011)
    age_share=ENGLAND_SHARE,
    residents=(1700, 250, 1000, 3000),  # LSOAs are built for 1,000 to 3,000 residents
    group=(4, 5, 7),  # MSOAs hold about five LSOAs (5,000 to 15,000 residents)
    areas=400,  # about 680,000 residents, a county-sized place
    place_names=ENGLISH_PLACE_NAMES,
    qualifiers=("North", "South", "East", "West", "Upper", "Lower", "Old", "New", "Great", "Little", "Nether"),
    communities=_english_communities(), renames=tuple(ENGLISH_RENAMES.items()))
COUNTRIES = {c.key: c for c in (SCOTLAND, ENGLAND)}


@dataclass(frozen=True)
class Options:
    out: Path = DEMO_PACK
    areas: int | None = None  # None: the country's default
    responses: int = 12_500
    seed: int = 2024
    country: str = SCOTLAND.key


@dataclass
class Geography:
    """Areas in code order: `frame` (area_code, area_name, neighbourhood_code, neighbourhood_name, locality),
    `loc` (locality index), `xy` (centroids in half-widths of the city), `shapes` (EPSG:4326 geometries)."""

    frame: pd.DataFrame
    loc: np.ndarray
    xy: np.ndarray
    shapes: np.ndarray = field(repr=False)


def _rng(seed: int, part: str) -> np.random.Generator:
    # One stream per part, so that asking for more responses does not redraw the map.
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


# --- geography ------------------------------------------------------------------------------------------------

def _outline(rng: np.random.Generator) -> shapely.Polygon:
    """A smoothed random-radius blob: a few low harmonics on an ellipse."""
    theta = np.linspace(0, 2 * np.pi, 240, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 7):
        radius += rng.uniform(0.03, 0.09) / np.sqrt(k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return shapely.Polygon(np.column_stack([HALF_WIDTH * radius * np.cos(theta),
                                            HALF_HEIGHT * radius * np.sin(theta)]))


def _river(rng: np.random.Generator) -> shapely.Polygon:
    """A meandering river, west to east, passing just south of the centre."""
    x = np.linspace(-1.4 * HALF_WIDTH, 1.4 * HALF_WIDTH, 600)
    phase = rng.uniform(0, 2 * np.pi, 3)
    wave = sum(amplitude * np.sin(2 * np.pi * x / length + p)
               for amplitude, length, p in zip((1200, 450, 150), (9000, 3700, 1300), phase))
    y = wave - np.interp(0, x, wave) - 300
    return shapely.LineString(np.column_stack([x, y])).buffer(RIVER_HALF_WIDTH, quad_segs=4)


def _seed_points(rng: np.random.Generator, inner: shapely.Geometry, n: int) -> np.ndarray:
    """n points on land, about eight times denser in the centre than at the edge (smaller cells in town)."""
    shapely.prepare(inner)
    found: list[np.ndarray] = []
    while sum(len(f) for f in found) < n:
        xy = rng.uniform(-1.3, 1.3, size=(8 * n, 2))
        r = np.hypot(xy[:, 0], xy[:, 1])
        xy *= (HALF_WIDTH, HALF_HEIGHT)
        keep = rng.random(len(xy)) < 0.12 + 0.88 * np.exp(-((r / 0.38) ** 2))
        keep &= shapely.contains_xy(inner, xy[:, 0], xy[:, 1])
        found.append(xy[keep])
    return np.concatenate(found)[:n]


def _voronoi(points: np.ndarray, land: shapely.Geometry) -> np.ndarray:
    """Voronoi cells of the points (in the points' order), clipped to the land."""
    frame = shapely.box(*land.bounds).buffer(5000)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame, ordered=True))
    return shapely.intersection(cells, land)


def _relax(points: np.ndarray, land: shapely.Geometry, inner: shapely.Geometry, steps: int = 2) -> np.ndarray:
    """A couple of Lloyd steps: evens out slivers while keeping the dense centre."""
    for _ in range(steps):
        centres = shapely.get_coordinates(shapely.centroid(_voronoi(points, land)))
        ok = shapely.contains_xy(inner, centres[:, 0], centres[:, 1])
        points = np.where(ok[:, None], centres, points)
    return points


def _absorb_fragments(cells: np.ndarray) -> np.ndarray:
    """Keep each cell's largest part; give every stray part (across the river, or cut off by the outline) to the
    cell on its own side that shares the longest edge with it, so no area straddles the water."""
    parts, owner = shapely.get_parts(cells, return_index=True)
    order = np.lexsort((-shapely.area(parts), owner))
    first = np.r_[True, owner[order][1:] != owner[order][:-1]]
    main = parts[order[first]]
    gifts: dict[int, list] = {}
    tree = shapely.STRtree(main)
    for part, cell in zip(parts[order[~first]], owner[order[~first]]):
        near = tree.query(part, predicate="intersects")
        near = near[near != cell]
        shared = shapely.length(shapely.intersection(main[near], part))
        if len(near) and shared.max() > 0:
            gifts.setdefault(int(near[np.argmax(shared)]), []).append(part)
    for cell, extra in gifts.items():
        main[cell] = shapely.union_all([main[cell], *extra])
    return main


def _adjacency(cells: np.ndarray) -> csr_matrix:
    """Areas sharing a boundary (a symmetric sparse matrix)."""
    pairs = shapely.STRtree(cells).query(cells, predicate="intersects")
    pairs = pairs[:, pairs[0] != pairs[1]]
    return coo_matrix((np.ones(pairs.shape[1]), (pairs[0], pairs[1])), shape=(len(cells),) * 2).tocsr()


def _localities(xy: np.ndarray) -> np.ndarray:
    """Locality index per area: the innermost areas are the centre, the rest angular sectors around it."""
    r = np.hypot(xy[:, 0], xy[:, 1])
    angle = (np.degrees(np.arctan2(xy[:, 1], xy[:, 0])) + 40) % 360
    sector = 1 + np.searchsorted(SECTOR_EDGES, angle, side="right")
    order = [3, 1, 2, 4, 5]  # sectors anticlockwise: Riverside, Eastfield, North Carron, Westhaven, South Braes
    loc = np.array(order)[sector - 1]
    return np.where(r <= np.quantile(r, CENTRE_SHARE), 0, loc)


def _split_disconnected(labels: np.ndarray, adj: csr_matrix) -> np.ndarray:
    """Relabel so that every group is one connected piece."""
    coo = adj.tocoo()
    same = labels[coo.row] == labels[coo.col]
    graph = coo_matrix((np.ones(same.sum()), (coo.row[same], coo.col[same])), shape=adj.shape)
    return connected_components(graph, directed=False)[1]


def _tidy_localities(loc: np.ndarray, adj: csr_matrix, fewest: int) -> np.ndarray:
    """Give pieces of a locality too small to make a neighbourhood (under `fewest` areas: a few cut off by the river
    or a sector edge) to the locality they border most."""
    loc = loc.copy()
    for _ in range(10):
        piece = _split_disconnected(loc, adj)
        stray = np.unique(piece[np.bincount(piece)[piece] < fewest])
        for p in stray:
            members = piece == p
            around = loc[adj[members].indices]
            around = around[around != loc[members][0]]
            if len(around):
                loc[members] = np.bincount(around).argmax()
        if not len(stray):
            break
    return loc


def _merge_target(group: int, labels: np.ndarray, xy: np.ndarray, adj: csr_matrix, sizes: np.ndarray) -> int:
    """The neighbouring group with fewest areas; failing a neighbour (an islet), the nearest group."""
    members = labels == group
    touching = np.unique(labels[adj[members].indices])
    touching = touching[touching != group]
    if len(touching):
        return int(touching[np.argmin(sizes[touching])])
    others = np.flatnonzero(labels != group)
    distance = np.hypot(*(xy[others] - xy[members].mean(axis=0)).T)
    return int(labels[others[np.argmin(distance)]])


def _connected(members: np.ndarray, adj: csr_matrix) -> bool:
    return connected_components(adj[members][:, members], directed=False)[0] == 1


def _halve(group: int, labels: np.ndarray, xy: np.ndarray, adj: csr_matrix, fewest: int) -> np.ndarray:
    """Cut a group in two across its longer side, at the cut nearest the middle that leaves both halves in one
    piece with at least `fewest` areas each (the middle itself if no cut does)."""
    members = np.flatnonzero(labels == group)
    n = len(members)
    cuts = sorted(range(fewest, n - fewest + 1), key=lambda c: abs(2 * c - n))
    axes = np.argsort(-np.ptp(xy[members], axis=0), kind="stable")
    tries = [(members[np.argsort(xy[members, a], kind="stable")], cut) for a in axes for cut in cuts]
    order, cut = next(((o, c) for o, c in tries if _connected(o[:c], adj) and _connected(o[c:], adj)), tries[0])
    labels = labels.copy()
    labels[order[cut:]] = labels.max() + 1
    return labels


def _neighbourhoods(rng: np.random.Generator, xy: np.ndarray, adj: csr_matrix,
                    limits: tuple[int, int, int]) -> np.ndarray:
    """Group one locality's areas into contiguous neighbourhoods of `limits` (fewest, typical, most) areas: k-means
    on the centroids, then split pieces apart, merge groups that are too small and halve those too big."""
    fewest, typical, most = limits
    k = max(1, round(len(xy) / typical))
    labels = kmeans2(xy, k, rng=rng, minit="++")[1] if k > 1 else np.zeros(len(xy), dtype=int)
    labels = _split_disconnected(labels, adj)
    for _ in range(10 * len(xy)):
        sizes = np.bincount(labels)
        small = np.flatnonzero((sizes > 0) & (sizes < fewest))
        large = np.flatnonzero(sizes > most)
        if small.size and sizes.astype(bool).sum() > 1:
            group = int(small[np.argmin(sizes[small])])
            labels[labels == group] = _merge_target(group, labels, xy, adj, sizes)
        elif large.size:
            labels = _halve(int(large[0]), labels, xy, adj, fewest)
        else:
            break
    return np.unique(labels, return_inverse=True)[1]


def _place_names(rng: np.random.Generator, n: int, country: Country) -> list[str]:
    """n unique neighbourhood names: the plain list shuffled, then qualified ones ('Upper Kirkton') if needed."""
    plain = country.place_names
    names = [str(x) for x in rng.permutation(plain)]
    names += [f"{q} {p}" for q in country.qualifiers for p in plain]
    names += [f"{p} {i}" for i in range(2, 2 + n // len(plain)) for p in plain]
    return names[:n]


def _to_lonlat(cells: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """Local metres → EPSG:4326, snapped to 5 decimals (about 1 m) and wound as RFC 7946 asks."""
    # A transverse Mercator on the city needs no datum grids, so the numbers are the same on every machine.
    lon, lat = centre
    local = (f"+proj=tmerc +lat_0={lat} +lon_0={lon} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m "
             "+no_defs")
    to_wgs84 = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    lonlat = shapely.transform(cells, lambda c: np.column_stack(to_wgs84.transform(c[:, 0], c[:, 1])))
    snapped = shapely.set_precision(lonlat, 1e-5)  # keeps every polygon valid on the 1e-5 grid
    # np.round then turns 56.020010000000006 into 56.02001, so the JSON carries no more than 5 decimals.
    return shapely.orient_polygons(shapely.transform(snapped, lambda c: np.round(c, 5)))


def geography(seed: int, n_areas: int, country: Country) -> Geography:
    """The city's small areas with their neighbourhoods and localities, sorted by area code."""
    rng = _rng(seed, "geography")
    land = shapely.difference(_outline(rng), _river(rng))
    inner = land.buffer(-80)
    points = _relax(_seed_points(rng, inner, n_areas), land, inner)
    cells = _absorb_fragments(_voronoi(points, land))
    xy = shapely.get_coordinates(shapely.centroid(cells)) / (HALF_WIDTH, HALF_HEIGHT)
    adj = _adjacency(cells)
    loc = _tidy_localities(_localities(xy), adj, country.group[0])
    group = np.zeros(n_areas, dtype=int)
    for i in range(len(LOCALITIES)):
        idx = np.flatnonzero(loc == i)
        group[idx] = _neighbourhoods(rng, xy[idx], adj[idx][:, idx], country.group) + group.max() + 1
    order, hood = _code_order(group, loc, xy)
    simplified = shapely.coverage_simplify(cells, 12.0)  # metres; shared edges stay shared
    return _label(rng, order, hood, loc, xy, _to_lonlat(simplified, country.centre), country)


def _code_order(group: np.ndarray, loc: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area order and neighbourhood number (0…) for codes that run by locality, then north to south, then west
    to east (neighbourhoods by their mean centroid), like a tidy published lookup."""
    group = np.unique(group, return_inverse=True)[1]
    size = np.bincount(group)
    centre = np.stack([np.bincount(group, xy[:, k]) / size for k in (0, 1)], axis=1)
    hood_loc = np.bincount(group, loc) / size  # every area of a neighbourhood is in the same locality
    number = np.empty(len(size), dtype=int)
    number[np.lexsort((centre[:, 0], -centre[:, 1], hood_loc))] = np.arange(len(size))
    hood = number[group]
    return np.lexsort((xy[:, 0], -xy[:, 1], hood)), hood


def _label(rng: np.random.Generator, order: np.ndarray, hood: np.ndarray, loc: np.ndarray, xy: np.ndarray,
           shapes: np.ndarray, country: Country) -> Geography:
    """Codes and names for areas already put in code order (localities by their Scottish names)."""
    hood, loc = hood[order], loc[order]
    names = np.array(_place_names(rng, hood.max() + 1, country))
    within = pd.Series(hood).groupby(hood).cumcount().to_numpy() + 1
    area, neighbourhood = country.codes
    frame = pd.DataFrame({
        "area_code": [f"{area}{i:05d}" for i in range(1, len(order) + 1)],
        "area_name": [f"{names[h]} {w}" for h, w in zip(hood, within)],
        "neighbourhood_code": [f"{neighbourhood}{h + 1:05d}" for h in hood],
        "neighbourhood_name": names[hood],
        "locality": np.array(LOCALITIES)[loc],
    })
    return Geography(frame, loc, xy[order], shapes[order])


def geojson_text(geo: Geography) -> str:
    """The FeatureCollection as compact, stable text (features in area-code order)."""
    features = [{"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(shape)}
                for props, shape in zip(geo.frame.to_dict("records"), geo.shapes)]
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"),
                      ensure_ascii=False)


# --- population, deprivation, projections ---------------------------------------------------------------------

def population(seed: int, geo: Geography, country: Country) -> np.ndarray:
    """Residents per area × sex (F, M) × band: the country's shape, tilted by locality, with per-area noise."""
    rng = _rng(seed, "population")
    n = len(geo.loc)
    shape = np.array(country.age_share) * np.stack([FEMALE_SHARE, 1 - FEMALE_SHARE])  # (2, bands)
    probs = shape[None] * AGE_TILT[geo.loc][:, None, :] * rng.lognormal(0, 0.12, size=(n, 2, len(AGE_BANDS)))
    probs = probs.reshape(n, -1) / probs.reshape(n, -1).sum(axis=1, keepdims=True)
    mean, sd, fewest, most = country.residents
    totals = np.clip(np.rint(rng.normal(mean, sd, n)), fewest, most).astype(np.int64)
    return rng.multinomial(totals, probs).reshape(n, 2, len(AGE_BANDS))


def population_frame(geo: Geography, pop: np.ndarray) -> pd.DataFrame:
    n, bands = len(geo.loc), len(AGE_BANDS)
    return pd.DataFrame({"area_code": np.repeat(geo.frame["area_code"].to_numpy(), 2 * bands),
                         "sex": np.tile(np.repeat(["F", "M"], bands), n),
                         "age_band": np.tile(AGE_BANDS, 2 * n), "population": pop.ravel()})


def _deprivation_score(xy: np.ndarray) -> np.ndarray:
    score = np.zeros(len(xy))
    for x, y, width, strength in DEPRIVATION_BUMPS:
        score += strength * np.exp(-((xy[:, 0] - x) ** 2 + (xy[:, 1] - y) ** 2) / (2 * width ** 2))
    return score


def _national_ranks(rng: np.random.Generator, score: np.ndarray, national: int) -> np.ndarray:
    """Unique ranks on the national scale, the highest score getting the lowest rank; drawn leaning towards
    the deprived end so that about 30% of the city is in the national most deprived quintile."""
    lean = np.exp(-1.2 * np.arange(national) / national)
    drawn = np.sort(rng.choice(national, size=len(score), replace=False, p=lean / lean.sum()) + 1)
    ranks = np.empty(len(score), dtype=np.int64)
    ranks[np.argsort(-score, kind="stable")] = drawn
    return ranks


def deprivation(seed: int, geo: Geography, country: Country) -> pd.DataFrame:
    """Columns: area_code, rank, decile, quintile, <domain>_rank for the seven domains."""
    rng = _rng(seed, "deprivation")
    n = len(geo.loc)
    # Beyond the country's small areas (Scotland's 6,976 at benchmark sizes) the scale grows so ranks stay unique.
    national = max(country.national, 2 * n)
    score = _deprivation_score(geo.xy) + rng.normal(0, 0.4, n)
    z = (score - score.mean()) / score.std()
    ranks = _national_ranks(rng, score, national)
    # ceil(rank / (national / 10)) in whole numbers, so no float rounding can move a cut-off
    decile = np.clip(-(-ranks * 10 // national), 1, 10)
    # Quintiles pair the deciles, as the English importer makes them from IMD's; for SIMD this is the same as
    # ceil(rank / (national / 5)), since ceil(ceil(x) / 2) = ceil(x / 2).
    out = {"area_code": geo.frame["area_code"], "rank": ranks, "decile": decile, "quintile": -(-decile // 2)}
    centrality = np.exp(-np.hypot(*geo.xy.T) ** 2 / 0.1)
    for domain, link in DOMAIN_LINK.items():
        domain_score = link * z + np.sqrt(1 - link ** 2) * rng.normal(0, 1, n)
        if domain == "access":  # services are close by in town: access deprivation is lowest in the centre
            domain_score -= 2.0 * centrality
        out[f"{domain}_rank"] = _national_ranks(rng, domain_score, national)
    return pd.DataFrame(out)


def _student_flows(centre: np.ndarray) -> np.ndarray:
    """Net student migrants a year by sex × band (F, M), from the City Centre's base-year population (2, bands).

    The students are the part of the centre's 15-29s that its age tilt planted: population × (1 - 1/tilt). In the
    band model a fifth of each band ages out every year, so holding that bulge steady takes net in-migration of a
    fifth of the 15-19 students (each year's new intake) and of the growth from 15-19 to 20-24 (later and
    postgraduate entrants), and net out-migration of the students 25-29 and 30-34 would otherwise accumulate
    from the band below (graduates leaving). The flows telescope to zero and are fixed counts, alike in every
    variant (an assumption, as in NRS projections, that the universities keep their size); graduates who stay
    on are part of the general migration.
    """
    s15, s20, s25 = (centre[:, i] * (1 - 1 / AGE_TILT[0][i]) for i in map(AGE_BANDS.index, STUDENT_BANDS[:3]))
    flows = np.zeros_like(centre)
    for band, flow in zip(STUDENT_BANDS, (s15, s20 - s15, s25 - s20, -s25)):
        flows[:, AGE_BANDS.index(band)] = 0.2 * flow
    return flows


def _project_year(pop: np.ndarray, year: int, variant: tuple[float, float, float],
                  students: np.ndarray) -> np.ndarray:
    """One year of a cohort-component projection on five-year bands; pop is (2, bands), F then M; students are
    the fixed net student migrants a year (_student_flows)."""
    improvement, migration, fertility = variant
    dying = np.stack([WOMEN_MORTALITY_RATIO * MORTALITY_MEN, MORTALITY_MEN]) * (1 - improvement) ** year
    alive = pop * (1 - dying)
    births = fertility * (pop[0] * FERTILITY).sum()
    aged = 0.8 * alive  # a fifth of each band has its birthday out of the band every year
    aged[:, 1:] += 0.2 * alive[:, :-1]
    aged[:, -1] += 0.2 * alive[:, -1]  # the 90+ band keeps its own
    aged[:, 0] += births * np.array([0.488, 0.512]) * (1 - dying[:, 0])
    return aged + migration * pop.sum() * MIGRATION_AGES / MIGRATION_AGES.sum() / 2 + students


def projections(pop: np.ndarray, loc: np.ndarray, name: str) -> pd.DataFrame:
    """Columns: geography (`name`), variant, year, sex, age_band, population; the base year equals population.csv."""
    base = pop.sum(axis=0).astype(float)
    students = _student_flows(pop[loc == LOCALITIES.index(CITY_CENTRE)].sum(axis=0).astype(float))
    frames = []
    for variant, params in VARIANTS.items():
        state, years = base, [base]
        for t in range(1, LAST_YEAR - BASE_YEAR + 1):
            state = _project_year(state, t, params, students)
            years.append(state)
        values = np.rint(np.array(years)).astype(np.int64)  # round half to even, every year alike
        n_years = len(years)
        frames.append(pd.DataFrame({
            "geography": name, "variant": variant,
            "year": np.repeat(np.arange(BASE_YEAR, LAST_YEAR + 1), 2 * len(AGE_BANDS)),
            "sex": np.tile(np.repeat(["F", "M"], len(AGE_BANDS)), n_years),
            "age_band": np.tile(AGE_BANDS, 2 * n_years), "population": values.ravel()}))
    return pd.concat(frames, ignore_index=True)


# --- communities, need, priorities ----------------------------------------------------------------------------

def _eligible(ages: tuple[int, int]) -> np.ndarray:
    """Share of each band aged within `ages` (single years spread evenly; 90+ taken as 90-99)."""
    first = LOWER
    last = np.where(LOWER == LOWER.max(), 99, LOWER + 4)
    overlap = np.clip(np.minimum(last, ages[1]) - np.maximum(first, ages[0]) + 1, 0, None)
    return overlap / (last - first + 1)


def communities(geo: Geography, pop: np.ndarray, groups: tuple[Community, ...]) -> pd.DataFrame:
    """Columns: community, kind, locality, population, population_low, population_high, target_min, source;
    one row per locality and an 'All' row that sums them. Blank cells are empty strings."""
    by_locality = np.stack([pop[geo.loc == i].sum(axis=(0, 1)) for i in range(len(LOCALITIES))])
    rows = []
    for c in groups:
        if c.share is None:
            est = low = high = [""] * len(LOCALITIES)
            targets = list(c.targets)
        else:
            values = np.rint(c.share * np.array(c.tilt) * (by_locality @ _eligible(c.ages))).astype(int)
            est, low = list(values), list(np.rint(values * (1 - c.spread)).astype(int))
            high, targets = list(np.rint(values * (1 + c.spread)).astype(int)), [""] * len(LOCALITIES)
        for i, locality in enumerate((*LOCALITIES, ALL)):
            cells = [_total(col) if i == len(LOCALITIES) else col[i] for col in (est, low, high, targets)]
            rows.append([c.name, c.kind, locality, *cells, c.source])
    columns = ["community", "kind", "locality", "population", "population_low", "population_high", "target_min",
               "source"]
    return pd.DataFrame(rows, columns=columns).astype({c: str for c in columns[3:7]})


def _total(values: list) -> int | str:
    return "" if values[0] == "" else int(sum(values))


def need_indicators() -> pd.DataFrame:
    """Columns: indicator, label, sex, age_band, rate, unit, source: every band, 0 where no rate is published."""
    rows = []
    for code, label, source, spans in NEED_INDICATORS:
        for s, sex in enumerate(("F", "M")):
            for band, lower in zip(AGE_BANDS, LOWER):
                rate = next((span[3 - s] for span in spans if span[0] <= lower <= span[1]), 0.0)
                rows.append((code, label, sex, band, f"{rate:g}", "people", source))
    return pd.DataFrame(rows, columns=["indicator", "label", "sex", "age_band", "rate", "unit", "source"])


def need_gradient() -> pd.DataFrame:
    return pd.DataFrame({"indicator": "multimorbidity", "quintile": range(1, 6),
                         "relative_rate": [f"{r:.2f}" for r in MULTIMORBIDITY_GRADIENT], "source": GRADIENT_SOURCE})


# --- the engagement ledger ------------------------------------------------------------------------------------

def _survey_rows(rng: np.random.Generator) -> list[dict]:
    """The surveys, which take most responses: partnership-wide, one per locality, and partners' own."""
    rows = []
    for title, method, partner, locality, first, last, groups, weight in SURVEYS:
        places = LOCALITIES if locality == "each" else (locality,)
        for place in places:
            start, end = first, last
            if locality == "each":  # four to eight weeks, some time in the year
                start = int(rng.integers(30, 240))
                end = start + int(rng.integers(28, 57))
            rows.append(dict(title=title.format(place=place), method=method, partner=partner, locality=place,
                             start=start, end=end, communities=groups, weight=weight))
    return rows


def _fatigue_rows(rng: np.random.Generator) -> list[dict]:
    """Westhaven meetings aimed at the same community within weeks of each other (a consultation-fatigue case)."""
    rows = []
    for group, first, count, partners in (("Older people living alone", 35, 6, ("Westhaven Age Concern",)),
                                          ("Unpaid carers", 155, 4, ("Westhaven Community Council",
                                                                     "Westhaven Age Concern"))):
        days = np.sort(rng.integers(first, first + 35, size=count))
        for day in days:
            partner = str(rng.choice(partners))
            topic = str(rng.choice([label for _, label in PRIORITIES]))
            rows.append(dict(title=f"{partner}: {topic}", method="meeting", partner=partner, locality="Westhaven",
                             start=int(day), end=int(day), communities=group, weight=0.0))
    return rows


def _general_row(rng: np.random.Generator, locality: str) -> dict:
    """One meeting, presentation, focus group, interview or event run by a partner working in the locality."""
    partners = [p for p in PARTNERS if p.home in (locality, ALL)]
    weights = np.array([3.0 if p.home == locality else 1.0 for p in partners])
    partner = partners[rng.choice(len(partners), p=weights / weights.sum())]
    method = str(rng.choice(partner.methods.split()))
    groups = partner.communities if rng.random() < 0.7 else ""
    if not partner.communities and rng.random() < 0.12:
        groups = COMMUNITIES[rng.integers(len(COMMUNITIES))].name
    templates = [t for t in TITLES[method] if groups or "{group}" not in t]
    template = templates[int(rng.integers(len(templates)))]
    title = template.format(partner=partner.name, place="Invercarron" if locality == ALL else locality,
                            topic=str(rng.choice([label for _, label in PRIORITIES])), group=groups.split(";")[0])
    day = int(rng.integers(0, PERIOD_DAYS))
    return dict(title=title, method=method, partner=partner.name, locality=locality, start=day, end=day,
                communities=groups, weight=0.0)


def _held(rng: np.random.Generator, rows: pd.DataFrame, geo: Geography) -> pd.DataFrame:
    """Mode, venue area, head count and how many participants left their details, per activity."""
    modes, venues, heads, slots = [], [], [], []
    for method, locality in zip(rows["method"], rows["locality"]):
        choices, p = MODE_CHOICES[method]
        mode = str(rng.choice(choices, p=p))
        home = LOCALITIES.index(locality) if locality in LOCALITIES else 0  # partnership-wide: a central venue
        area = geo.frame["area_code"].to_numpy()[rng.choice(np.flatnonzero(geo.loc == home))]
        venues.append(area if mode in ("in_person", "hybrid") else "")
        low, high = HEADCOUNT[method]
        heads.append(int(rng.integers(low, high + 1)))
        modes.append(mode)
        gives = {"focus_group": rng.binomial(heads[-1], 0.8), "interview": 1,
                 "event": rng.binomial(heads[-1], rng.uniform(0.1, 0.25)) if rng.random() < 0.3 else 0}
        slots.append(int(gives.get(method, 0)))
    return rows.assign(mode=modes, area_code=venues, participants=heads, slots=slots)


def activities(seed: int, geo: Geography, pop: np.ndarray) -> pd.DataFrame:
    """Activities in date order with ids, plus working columns `weight` (surveys' pull) and `slots`."""
    rng = _rng(seed, "activities")
    rows = _survey_rows(rng) + _fatigue_rows(rng)
    residents = np.array([pop[geo.loc == i].sum() for i in range(len(LOCALITIES))]) * CONSULTATION
    places = (*LOCALITIES, ALL)
    p = np.append(0.88 * residents / residents.sum(), 0.12)
    rows += [_general_row(rng, places[rng.choice(len(places), p=p)]) for _ in range(ACTIVITIES - len(rows))]
    frame = _held(rng, pd.DataFrame(rows), geo)
    frame = frame.sort_values(["start", "end", "title", "partner"], kind="stable", ignore_index=True)
    frame.insert(0, "activity_id", [f"A{i:0{max(4, len(str(len(frame))))}d}" for i in range(1, len(frame) + 1)])
    return frame


def _sample_people(rng: np.random.Generator, geo: Geography, pop: np.ndarray, quintile: np.ndarray,
                   m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Respondents drawn from the residents with propensity weights: (area index, sex 0=F 1=M, band index)."""
    weight = pop * RESPONSE_WEIGHT[None] * (QUINTILE_WEIGHT[quintile - 1] * LOCALITY_WEIGHT[geo.loc])[:, None, None]
    flat = weight.ravel() / weight.sum()
    return np.unravel_index(rng.choice(flat.size, size=m, p=flat), pop.shape)


def _memberships(rng: np.random.Generator, loc: np.ndarray, band: np.ndarray,
                 groups: tuple[Community, ...]) -> np.ndarray:
    """Which of `groups` each respondent belongs to (m × communities, bool)."""
    prob = np.stack([c.heard * np.array(c.tilt)[loc] * _eligible(c.ages)[band] for c in groups], axis=1)
    return rng.random(prob.shape) < np.minimum(prob, 1.0)


def _priorities(rng: np.random.Generator, band: np.ndarray, members: np.ndarray) -> np.ndarray:
    """1-3 priorities per person (m × priorities, bool); popularity differs by age and caring."""
    weight = np.tile([1.0, 0.6, 0.9, 0.8, 0.7, 0.5, 0.7], (len(band), 1))
    weight[members[:, COMMUNITY_INDEX["Unpaid carers"]], 1] *= 4
    weight[LOWER[band] >= 65, 3] *= 3
    young = LOWER[band] < 25
    weight[young, 2] *= 3
    weight[young, 5] *= 3
    keys = np.log(weight) + rng.gumbel(size=weight.shape)  # Gumbel top-k: weighted choice without replacement
    count = rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25], size=len(band))
    return (-keys).argsort(axis=1).argsort(axis=1) < count[:, None]


def _assign(rng: np.random.Generator, acts: pd.DataFrame, loc: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Activity index per respondent. Focus groups, interviews and some events take people from their own
    locality (members of the communities they target first); everyone else answers a survey open to them."""
    chosen = np.full(len(loc), -1)
    act_loc = acts["locality"].map({name: i for i, name in enumerate(LOCALITIES)}).fillna(-1).to_numpy()
    for j in np.flatnonzero(acts["slots"].to_numpy() > 0):
        pool = np.flatnonzero((chosen < 0) & ((loc == act_loc[j]) | (act_loc[j] < 0)))
        targeted = [COMMUNITY_INDEX[c] for c in acts.at[j, "communities"].split(";") if c]
        weight = 1.0 + 40.0 * members[np.ix_(pool, targeted)].any(axis=1) if targeted else np.ones(len(pool))
        k = min(int(acts.at[j, "slots"]), len(pool))
        chosen[rng.choice(pool, size=k, replace=False, p=weight / weight.sum())] = j
    surveys = np.flatnonzero(acts["method"].isin(SURVEY_METHODS).to_numpy())
    for i in range(len(LOCALITIES)):
        who = np.flatnonzero((chosen < 0) & (loc == i))
        open_here = np.isin(act_loc[surveys], (i, -1))
        weight = acts["weight"].to_numpy()[surveys] * np.where(open_here, 1.0, 0.03)
        chosen[who] = rng.choice(surveys, size=len(who), p=weight / weight.sum())
    return chosen


def _join(flags: np.ndarray, names: list[str]) -> np.ndarray:
    """Rows of flags → ';'-joined names, via the few distinct combinations rather than row by row."""
    code = flags.astype(np.int64) @ (1 << np.arange(flags.shape[1], dtype=np.int64))
    combos, inverse = np.unique(code, return_inverse=True)
    text = np.array([";".join(n for b, n in enumerate(names) if int(c) >> b & 1) for c in combos], dtype=object)
    return text[inverse]


def _blank(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    return np.where(rng.random(len(values)) < share, "", values).astype(object)


def responses(seed: int, geo: Geography, pop: np.ndarray, quintile: np.ndarray, acts: pd.DataFrame,
              m: int, groups: tuple[Community, ...]) -> pd.DataFrame:
    """Columns as responses.csv, in date order (response ids follow it)."""
    rng = _rng(seed, "responses")
    area, sex, band = _sample_people(rng, geo, pop, quintile, m)
    members = _memberships(rng, geo.loc[area], band, groups)
    chosen = _assign(rng, acts, geo.loc[area], members)
    first, last = acts["start"].to_numpy()[chosen], acts["end"].to_numpy()[chosen]
    day = first + np.floor(rng.random(m) * (last - first + 1)).astype(int)
    sex_text = np.array(["F", "M"])[sex].astype(object)
    sex_text = np.where(rng.random(m) < 0.01, "X", _blank(rng, sex_text, 0.03))
    frame = pd.DataFrame({
        "activity_id": acts["activity_id"].to_numpy()[chosen],
        "submitted_on": np.datetime_as_string(PERIOD_START + day, unit="D"),
        "area_code": _blank(rng, geo.frame["area_code"].to_numpy()[area], 0.05),
        "sex": sex_text, "age_band": _blank(rng, np.array(AGE_BANDS)[band], 0.04),
        "communities": _join(members, [c.name for c in groups]),
        "priorities": _join(_priorities(rng, band, members), [code for code, _ in PRIORITIES]),
    })
    frame = frame.iloc[np.lexsort((chosen, day))].reset_index(drop=True)
    frame.insert(0, "response_id", [f"R{i:0{max(6, len(str(m)))}d}" for i in range(1, m + 1)])
    return frame


PANEL_SIZE = 900  # recruited so far towards the Citizens Panel page's default of 1,000
PANEL_LEFT = 0.08  # members who have since left


def panel_members(seed: int, geo: Geography, pop: np.ndarray, quintile: np.ndarray, groups: tuple[Community, ...],
                  n: int = PANEL_SIZE) -> pd.DataFrame:
    """panel.csv: residents aged 15+ recruited through engagement, so with its biases (older women over, young
    men and the most deprived areas under), joined over the review period; a few have left."""
    rng = _rng(seed, "panel")
    weight = (pop * RESPONSE_WEIGHT[None] * (LOWER >= 15)[None, None, :]
              * (QUINTILE_WEIGHT[quintile - 1] * LOCALITY_WEIGHT[geo.loc])[:, None, None])
    area, sex, band = np.unravel_index(rng.choice(weight.size, size=n, p=weight.ravel() / weight.sum()), pop.shape)
    members = _memberships(rng, geo.loc[area], band, groups)
    day = np.sort(rng.integers(0, PERIOD_DAYS, size=n))
    return pd.DataFrame({
        "member_id": [f"P{i:05d}" for i in range(1, n + 1)],
        "area_code": geo.frame["area_code"].to_numpy()[area], "sex": np.array(["F", "M"])[sex],
        "age_band": np.array(AGE_BANDS)[band], "communities": _join(members, [c.name for c in groups]),
        "joined_on": np.datetime_as_string(PERIOD_START + day, unit="D"),
        "status": np.where(rng.random(n) < PANEL_LEFT, "left", "active")})


def activities_frame(acts: pd.DataFrame, resp: pd.DataFrame) -> pd.DataFrame:
    """activities.csv as the contract has it: day numbers as dates, a survey's head count is its responses, and
    the working columns dropped."""
    dates = {c: np.datetime_as_string(PERIOD_START + acts[c].to_numpy(), unit="D") for c in ("start", "end")}
    answered = acts["activity_id"].map(resp["activity_id"].value_counts()).fillna(0).astype(int)
    heads = acts["participants"].where(~acts["method"].isin(SURVEY_METHODS), answered)
    out = acts.assign(start_date=dates["start"], end_date=dates["end"], participants=heads)
    return out[["activity_id", "title", "method", "partner", "start_date", "end_date", "locality", "area_code",
                "mode", "participants", "communities"]]


# --- writing --------------------------------------------------------------------------------------------------

def pack_toml(country: Country) -> str:
    return f'''# A fictional partnership made up for demonstration: every figure in this pack is synthetic.
# Generated by analytics/demo.py; regenerate rather than edit.
name = "{country.name}"
country = "{country.key}"
base_year = {BASE_YEAR}
area_label = "{country.area_label}"
neighbourhood_label = "{country.neighbourhood_label}"
deprivation_index = "{country.deprivation_index}"
suppress_below = 5
synthetic = true
# The perturbation's secret (analytics/disclosure.py), fixed so the demonstration's figures are the same on every
# machine. A real pack must not set one: its build keeps a random secret in the pack's .cell_key file.
cell_key_secret = "{country.secret}"
'''


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def generate(options: Options) -> dict[str, int]:
    """Write the pack and ledger to options.out; return headline counts."""
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    country = COUNTRIES[options.country]
    groups = country.communities
    geo = geography(options.seed, country.areas if options.areas is None else options.areas, country)
    pop = population(options.seed, geo, country)
    dep = deprivation(options.seed, geo, country)
    acts = activities(options.seed, geo, pop)
    resp = responses(options.seed, geo, pop, dep["quintile"].to_numpy(), acts, options.responses, groups)
    (out / "pack.toml").write_text(pack_toml(country), encoding="utf-8")
    (out / "areas.geojson").write_text(geojson_text(replace(geo, frame=country.localise(geo.frame))),
                                       encoding="utf-8")
    tables = {"population": population_frame(geo, pop), "deprivation": dep,
              "projections": projections(pop, geo.loc, country.name), "communities": communities(geo, pop, groups),
              "need_indicators": need_indicators(), "need_gradient": need_gradient(),
              "priorities": pd.DataFrame(PRIORITIES, columns=["code", "label"]),
              "activities": activities_frame(acts, resp), "responses": resp,
              "panel": panel_members(options.seed, geo, pop, dep["quintile"].to_numpy(), groups)}
    places = geo.frame[["area_code", "locality"]].merge(dep[["area_code", "quintile"]], on="area_code")
    tables |= demo_insight.tables(options.seed, resp, places, tables["activities"])  # issue 22
    for name, frame in tables.items():  # every name so far is the Scottish example's: put the country's in
        _write_csv(country.localise(frame), out / f"{name}.csv")
    return {"population": int(pop.sum()), "areas": len(geo.loc), "neighbourhoods": int(geo.frame[
        "neighbourhood_code"].nunique()), "activities": len(acts), "responses": len(resp)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic demonstration pack: Invercarron HSCP (Scotland, "
                                                 "the default) or Aldermere ICS place (England).")
    parser.add_argument("--country", choices=list(COUNTRIES), default=Options.country, help="which example")
    parser.add_argument("--out", type=Path, help="folder to write (default data/demo; required for England)")
    parser.add_argument("--areas", type=int, help=f"number of small areas (default {SCOTLAND.areas} in Scotland, "
                                                  f"{ENGLAND.areas} in England)")
    parser.add_argument("--responses", type=int, default=Options.responses, help="number of responses")
    parser.add_argument("--seed", type=int, default=Options.seed, help="random seed")
    args = parser.parse_args(argv)
    if args.out is None and args.country != SCOTLAND.key:
        parser.error("give --out: data/demo holds the Scottish example")  # so it is never overwritten by mistake
    args.out = args.out or DEMO_PACK
    started = time.perf_counter()
    counts = generate(Options(args.out, args.areas, args.responses, args.seed, args.country))
    summary = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    print(f"Wrote {args.out}: {summary} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
