"""The demonstration's insight ledger (issue 22): comments, insights, "you said, we did" actions and stories.

Comments are written from phrase banks with themes planted differently by group, so the theme analysis has
something true to find: interpreting and language among minority ethnic residents (and refugees), respite among
unpaid carers, transport in the rural localities (South Braes, North Carron), digital exclusion among people aged
75+, the cost of living in the most deprived quintile, and one theme the built-in codebook lacks — pharmacy and
prescriptions in Eastfield — for discovery to propose. Some comments consent to quotation and some carry fake
names, e-mail addresses, phone numbers (Ofcom's drama range), postcodes, addresses and markup for redaction to
remove. Deterministic: one generator seeded from the pack's seed; the same responses give the same files.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

QUESTIONS = ("What matters most to you about health and care where you live?",
             "What one thing would make services better for you?")
# theme → sentences people write about it (the codebook's phrases appear in them, as people's own words do).
BANK: dict[str, tuple[str, ...]] = {
    "interpreting": ("I needed an interpreter at my appointment and none was booked.",
                     "Letters should be translated, English is not my first language.",
                     "My mother waits for family to come and interpret for her.",
                     "Please have information in other languages, the language barrier stops us asking.",
                     "Having an interpreter by phone made the GP visit much easier."),
    "respite": ("As a carer I have not had respite in two years.",
                "I need a short break from caring before I break down myself.",
                "The respite beds are always full when we ask.",
                "A regular break from caring would let me keep going.",
                "Day centre places gave me time off from caring and now they are gone."),
    "transport": ("The bus to the hospital only runs twice a day from our village.",
                  "There is no transport to the clinic unless you have a car.",
                  "Taxis cost a fortune and there are no buses after six.",
                  "Travel to appointments in town takes most of the day.",
                  "I rely on a neighbour for a lift to the surgery."),
    "digital": ("Everything is online now and I do not have the internet.",
                "I cannot use the app to book appointments, I have no smartphone.",
                "The website is too hard for me to use at my age.",
                "Not everyone has a computer, keep the phone line and paper forms.",
                "My grandson sets up the video calls, I could not manage alone."),
    "cost": ("We cannot afford the heating and it makes my chest worse.",
             "The cost of living means we skip meals to pay the bills.",
             "Benefits do not cover what we need, I use the food bank.",
             "I cannot afford the bus fare to get to the clinic."),
    "waiting": ("We waited months to hear back about the assessment.",
                "The waiting list for physiotherapy is far too long.",
                "Waiting times for the memory clinic are worrying us."),
    "lonely": ("Since my husband died I am lonely most days.",
               "I feel isolated and would love a lunch club nearby.",
               "Living on my own there is nobody to talk to some weeks."),
    "mental": ("Mental health support for young people is impossible to get.",
               "My anxiety got worse while waiting for counselling.",
               "There should be someone to talk to when you are depressed, not just a leaflet."),
    "homecare": ("The home care visits are rushed and the carers change every week.",
                 "Care at home let my dad stay in his own house, it was excellent.",
                 "The care package was cut without anyone asking us."),
    "pharmacy": ("The pharmacy in Eastfield closed so getting prescriptions is a struggle.",
                 "Repeat prescriptions keep going missing between the surgery and the chemist.",
                 "The nearest chemist is now two miles away and the prescription queue is long.",
                 "Getting my prescription from the pharmacy takes three trips."),
    "praise": ("The staff at the health centre were kind and listened.",
               "Thank you to the district nurses, they were wonderful.",
               "The community link worker really helped our family."),
}
BASE = {"interpreting": 0.02, "respite": 0.04, "transport": 0.06, "digital": 0.06, "cost": 0.07, "waiting": 0.14,
        "lonely": 0.08, "mental": 0.10, "homecare": 0.09, "pharmacy": 0.015, "praise": 0.12}
FAKE_NAMES = ("Fiona Baird", "Agnes Boyd", "John Kerr", "Mrs Duncan", "Dr Patel", "Isla Grant", "Mohammed Khan")
PII = ("My name is {name}, call me on 07700 900{n:03d}.", "Email me at {first}.{n}@example.com if you want to talk.",
       "I live at {n} Carron Road, IV99 {n}AB.", "{name} at the day centre was a great help.",
       "<b>Please</b> <script>alert('x')</script> listen to us.", "=HYPERLINK(\"http://example.com\") fix this",
       "Ring 01632 960{n:03d} and ask for {name}.")


def _planted(people: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each theme's chance per person, with the planted differences."""
    communities = people["communities"].fillna("")
    lower = pd.to_numeric(people["age_band"].str.extract(r"^(\d+)")[0], errors="coerce").fillna(40).to_numpy()
    ethnic = communities.str.contains("Minority ethnic|Refugees").to_numpy()
    carer = communities.str.contains("Unpaid carers").to_numpy()
    rural = people["locality"].isin(["South Braes", "North Carron"]).to_numpy()
    chance = {theme: np.full(len(people), p) for theme, p in BASE.items()}
    chance["interpreting"] = np.where(ethnic, 0.45, chance["interpreting"])
    chance["respite"] = np.where(carer, 0.35, chance["respite"])
    chance["transport"] = np.where(rural, 0.35, chance["transport"])
    chance["digital"] = np.where(lower >= 75, 0.45, chance["digital"])
    chance["cost"] = np.where(people["quintile"].to_numpy() == 1, 0.25, chance["cost"])
    chance["pharmacy"] = np.where(people["locality"].eq("Eastfield").to_numpy(), 0.30, chance["pharmacy"])
    return chance


def comments(seed: int, people: pd.DataFrame) -> pd.DataFrame:
    """comments.csv. `people`: responses.csv with each person's locality and quintile (NaN where not known)."""
    rng = np.random.default_rng([seed, 22, 1])
    ethnic = people["communities"].fillna("").str.contains("Minority ethnic|Refugees").to_numpy()
    writes = rng.random(len(people)) < np.where(ethnic, 0.7, 0.35)
    chance = _planted(people)
    rows = []
    for i in np.flatnonzero(writes):
        said = [t for t in BANK if rng.random() < chance[t][i]] or [str(rng.choice(["waiting", "praise"]))]
        sentences = [str(rng.choice(BANK[t])) for t in said[:3]]
        if rng.random() < 0.04:
            name = str(rng.choice(FAKE_NAMES))
            sentences.append(str(rng.choice(PII)).format(name=name, first=name.split()[-1].lower(),
                                                         n=int(rng.integers(1, 99))))
        question = QUESTIONS[int(rng.random() < 0.3)]
        rows.append((people.at[i, "response_id"], question, " ".join(sentences),
                     "yes" if rng.random() < 0.45 else "no"))
    return pd.DataFrame(rows, columns=["response_id", "question", "text", "consent_to_quote"])


INSIGHT_THEMES = {  # planted theme → (codebook theme, community, locality, priority, title)
    "interpreting": ("Interpreting and language", "Minority ethnic people", "All", "P5",
                     "Interpreters are not booked, and letters come only in English"),
    "respite": ("Respite and breaks for carers", "Unpaid carers", "All", "P2",
                "Carers cannot get a break: respite is full or too far away"),
    "transport": ("Transport and travel", "", "South Braes", "P5", "No bus, no appointment: travel in the Braes"),
    "digital": ("Digital exclusion", "Older people living alone", "All", "P6",
                "Online-only booking shuts out people over 75"),
    "cost": ("Cost of living", "", "Eastfield", "P5", "Cold homes and skipped meals are making people ill"),
    "waiting": ("Waiting times", "", "All", "P4", "Waiting without word: people want to hear where they stand"),
    "mental": ("Mental health support", "Young people (16-24)", "City Centre & University", "P3",
               "Young people wait months for someone to talk to"),
    "homecare": ("Care at home", "Disabled people", "Riverside", "P4", "Home care visits feel rushed"),
    "lonely": ("Loneliness and isolation", "Older people living alone", "Westhaven", "P7",
               "Lunch clubs and befriending are missed since the closures"),
}
DECISIONS = ("Book interpreters automatically when a need is recorded, and translate appointment letters",
             "Fund 40 more short-break places with the carers' centre", "Pilot a demand-responsive bus to clinics",
             "Keep a phone line and paper forms for every online service", "Add welfare-rights advice to GP practices",
             "Send a letter every six weeks to people on a waiting list", "Open a drop-in wellbeing hub for 16-24s",
             "Review home care rotas with providers", "Restart two lunch clubs with community groups")
OWNERS = ("Head of Adult Services", "Carers Lead", "Transport Planning Officer", "Digital Inclusion Lead",
          "Public Health Lead", "Planning Manager", "Mental Health Service Manager", "Care at Home Manager",
          "Locality Manager, Westhaven")
REASONS = {"not_taken": "The budget for 2026/27 could not cover it; we will look again at the next review."}


def insights(seed: int, acts: pd.DataFrame) -> pd.DataFrame:
    """insights.csv: a finding per theme from a report, and smaller ones from focus groups and events."""
    rng = np.random.default_rng([seed, 22, 2])
    rows = []
    for k, (key, (theme, community, locality, priority, title)) in enumerate(INSIGHT_THEMES.items(), start=1):
        rows.append({"insight_id": f"INS{k:03d}", "activity_id": "", "title": title,
                     "summary": f"People told us: {BANK[key][0]} {BANK[key][1]}",
                     "published_on": f"2026-0{3 + k % 5}-{10 + k:02d}", "locality": locality, "communities": community,
                     "priorities": priority, "themes": theme, "source": "Strategic plan review: what we heard",
                     "link": f"reports/what-we-heard-{k}.pdf"})
    held = acts[acts["method"].isin(["focus_group", "event", "meeting"])].reset_index(drop=True)
    picks = np.sort(rng.choice(len(held), size=min(30, len(held)), replace=False))
    keys = list(INSIGHT_THEMES)
    for n, j in enumerate(picks, start=len(rows) + 1):
        act = held.loc[j]
        key = keys[int(rng.integers(len(keys)))]
        theme, _, _, priority, _ = INSIGHT_THEMES[key]
        rows.append({"insight_id": f"INS{n:03d}", "activity_id": act["activity_id"],
                     "title": f"{act['title']}: {theme.lower()}", "summary": str(rng.choice(BANK[key])),
                     "published_on": str(pd.Timestamp(act["end_date"]) + pd.Timedelta(days=21))[:10],
                     "locality": act["locality"], "communities": act["communities"], "priorities": priority,
                     "themes": theme, "source": f"Notes of {act['title']}", "link": ""})
    return pd.DataFrame(rows)


def actions(seed: int, found: pd.DataFrame) -> pd.DataFrame:
    """actions.csv: the partnership's answer to each headline insight, in every status."""
    statuses = ("done", "in_progress", "planned", "done", "not_taken", "in_progress", "done", "planned", "done")
    rows = []
    for k, status in enumerate(statuses, start=1):
        reported = {"done": f"2026-0{5 + k % 3}-15", "in_progress": "2026-07-01"}.get(status, "")
        rows.append({"action_id": f"ACT{k:03d}", "insight_ids": f"INS{k:03d}", "decision": DECISIONS[k - 1],
                     "owner": OWNERS[k - 1], "status": status, "reason": REASONS.get(status, ""),
                     "reported_back_on": reported})
    return pd.DataFrame(rows)


STORIES = (  # title, teller, community, locality, priority, consent
    ("Finding my voice at the GP", "a woman who moved to Eastfield from Syria", "Minority ethnic people", "Eastfield",
     "P5", "public"),
    ("Twenty years of caring", "a carer in South Braes", "Unpaid carers", "South Braes", "P2", "public"),
    ("The last bus", "a retired shepherd in North Carron", "", "North Carron", "P5", "public"),
    ("Booking online at 82", "an older man living alone in Westhaven", "Older people living alone", "Westhaven",
     "P6", "board_only"),
    ("Coming home from hospital", "a disabled woman in Riverside", "Disabled people", "Riverside", "P4", "public"),
    ("A week without heating", "a young family in Eastfield", "", "Eastfield", "P5", "board_only"),
    ("Someone to talk to", "a student in the city centre", "Young people (16-24)", "City Centre & University", "P3",
     "public"),
    ("Recovery, one day at a time", "a man in recovery in Eastfield", "People in recovery from addiction",
     "Eastfield", "P1", "withdrawn"),
    ("The lunch club", "a widow in Westhaven", "Older people living alone", "Westhaven", "P7", "public"),
    ("Signing for myself", "a British Sign Language user", "British Sign Language users", "All", "P5", "board_only"),
    ("My son's care package", "a parent carer in Riverside", "Unpaid carers", "Riverside", "P4", "withdrawn"),
    ("Back on my feet", "a veteran in North Carron", "Veterans", "North Carron", "P1", "public"),
)


def stories() -> pd.DataFrame:
    """stories.csv: a dozen stories with mixed consent (two withdrawn, three for the Board only)."""
    rows = [{"story_id": f"S{k:02d}", "title": title, "summary": f"{teller[0].upper()}{teller[1:]} tells how "
             f"{title.lower()} changed what they need from health and care, and what would have helped sooner.",
             "teller": teller, "communities": community, "locality": locality, "priorities": priority,
             "consent": consent, "media": f"stories/S{k:02d}.mp3" if k % 3 == 0 else "",
             "told_on": f"2026-{1 + k % 8:02d}-{5 + k:02d}"}
            for k, (title, teller, community, locality, priority, consent) in enumerate(STORIES, start=1)]
    return pd.DataFrame(rows)


def tables(seed: int, resp: pd.DataFrame, places: pd.DataFrame, acts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The four insight files. `places`: area_code, locality, quintile; `acts`: activities.csv."""
    people = resp.merge(places, on="area_code", how="left")
    found = insights(seed, acts)
    return {"comments": comments(seed, people), "insights": found, "actions": actions(seed, found),
            "stories": stories()}
