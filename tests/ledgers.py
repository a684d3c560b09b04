"""A synthetic engagement ledger for an imported pack (an import brings geography and population, and an empty
ledger): activities of heavy-tailed sizes run by a few partners, most in one locality and drawing their people
from it, a few partnership-wide surveys, over a year; respondents drawn in proportion to residents, with unknown
ages and sexes sprinkled in as real exports have them."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

METHODS = ("focus_group", "interview", "meeting", "event", "presentation")
PARTNERS = ("Partnership Engagement Team", "Carers Centre", "Community Health Forum", "Youth Network")
START = np.datetime64("2025-04-01")


def write_ledger(pack: Path, seed: int, local: int = 90, responses: int = 4000) -> None:
    """Write activities.csv and responses.csv into `pack` (replacing them)."""
    rng = np.random.default_rng(seed)
    pop = pd.read_csv(pack / "population.csv", dtype={"area_code": str})
    features = json.loads((pack / "areas.geojson").read_text(encoding="utf-8"))["features"]
    place = pd.Series({f["properties"]["area_code"]: f["properties"]["locality"] for f in features})
    pop = pop[pop["population"] > 0].assign(locality=lambda p: p["area_code"].map(place))
    sizes = np.clip(rng.lognormal(np.log(25), 1.0, local), 3, 400).astype(int)
    surveys = max(responses - int(sizes.sum()), 500)
    acts, rows = [], []
    for k, size in enumerate([*sizes, surveys // 2, surveys - surveys // 2]):
        open_survey = k >= local
        where = "All" if open_survey else rng.choice(sorted(place.unique()))
        start = START + int(rng.integers(0, 330))
        acts.append({"activity_id": f"A{k + 1:04d}", "title": f"Activity {k + 1}",
                     "method": "online_survey" if open_survey else rng.choice(METHODS),
                     "partner": PARTNERS[0] if open_survey else rng.choice(PARTNERS), "start_date": str(start),
                     "end_date": str(start + (30 if open_survey else 0)), "locality": where, "area_code": "",
                     "mode": "remote" if open_survey else "in_person", "participants": int(size) + 2,
                     "communities": ""})
        frame = pop if open_survey else pop[pop["locality"] == where]
        people = frame.iloc[rng.choice(len(frame), int(size), p=(frame["population"] / frame["population"].sum()))]
        for person in people.itertuples():
            rows.append({"activity_id": f"A{k + 1:04d}", "submitted_on": str(start + (int(rng.integers(0, 31))
                                                                                      if open_survey else 0)),
                         "area_code": person.area_code, "sex": person.sex if rng.random() > 0.02 else "",
                         "age_band": person.age_band if rng.random() > 0.03 else "", "communities": "",
                         "priorities": ""})
    ledger = pd.DataFrame(rows)
    ledger.insert(0, "response_id", [f"R{i + 1:06d}" for i in range(len(ledger))])
    pd.DataFrame(acts).to_csv(pack / "activities.csv", index=False)
    ledger.to_csv(pack / "responses.csv", index=False)
