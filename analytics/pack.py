"""Read an area pack and its engagement ledger, check everything, and return typed tables.

Nothing here touches the store: `load_pack` either returns a complete, consistent `Pack` or raises
`PackInvalid` listing every problem, so a bad pack can never half-load.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import shapely

from analytics import batches, config
from analytics.schema import (ALL_FILES, DOMAINS, RESPONSE_GRACE_DAYS, YEAR_MAX, YEAR_MIN, FileSpec, PackInvalid,
                              Problem, read_csv, reference_problems, spell_out, whole_number_problem)

META_DEFAULTS = {"area_label": "small area", "neighbourhood_label": "neighbourhood",
                 "deprivation_index": "deprivation index", "suppress_below": config.DEFAULT_SUPPRESS_BELOW,
                 "synthetic": False}
SUPPRESS_RANGE = (1, 100)  # pack.toml suppress_below: 0 would show every count of people, however small
AREA_PROPERTIES = ("area_code", "area_name", "neighbourhood_code", "neighbourhood_name", "locality")


@dataclass
class Pack:
    """A validated pack: `meta` from pack.toml, `areas` from the GeoJSON's properties, typed `tables`."""

    path: Path
    meta: dict
    areas: pd.DataFrame
    geojson: dict
    tables: dict[str, pd.DataFrame]
    content_hash: str

    @property
    def localities(self) -> list[str]:
        return sorted(self.areas["locality"].unique())


def content_hash(path: Path) -> str:
    """A fingerprint of every contract file in the pack, so the store is rebuilt exactly when one changes."""
    digest = hashlib.sha256()
    names = ["pack.toml", "areas.geojson"] + [spec.name for spec in ALL_FILES]
    for name in names:
        file = path / name
        if file.is_file():
            digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
    # Issue 7: batches added from the upload page are ledger too, so adding or undoing one rebuilds the store.
    for name, data in batches.hash_items(path):
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def load_pack(path: Path, pending: Path | None = None) -> Pack:
    """Validate the whole pack and ledger; raise PackInvalid with every problem found. `pending` is an upload
    batch folder checked as if it were committed (analytics.ledger checks a batch this way before adding it)."""
    path = Path(path)
    if not path.is_dir():
        raise PackInvalid([Problem(str(path), "the pack folder does not exist; give the folder that holds pack.toml")])
    problems: list[Problem] = []
    meta = _read_meta(path, problems)
    geojson, areas = _read_areas(path, problems)
    layout: dict[str, list[batches.Part]] = {}
    raw = _read_tables(path, problems, pending, layout)
    # References are checked even when cells are bad, so one run lists everything; but not when a whole file
    # (or the boundaries) could not be read, since every reference to it would then be reported as well.
    if not any(p.row is None for p in problems) and len(areas):
        problems += _cross_checks(meta, areas, raw)
    if problems:
        raise PackInvalid(batches.relocate(problems, layout))  # rows of the combined ledger → file and row
    return Pack(path, meta, areas, geojson, {name: _typed(name, f) for name, f in raw.items()}, content_hash(path))


def _read_meta(path: Path, problems: list[Problem]) -> dict:
    file = path / "pack.toml"
    if not file.is_file():
        problems.append(Problem("pack.toml", "the file is missing; every pack needs one (see SCHEMA.md)"))
        return dict(META_DEFAULTS)
    try:
        meta = {**META_DEFAULTS, **tomllib.loads(file.read_text(encoding="utf-8-sig"))}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem("pack.toml", f"is not valid TOML ({exc}); write lines like name = \"…\""))
        return dict(META_DEFAULTS)
    for key in ("name", "country", "base_year"):
        if key not in meta:
            problems.append(Problem("pack.toml", f"the setting is missing; add a line {key} = …", column=key))
    if "country" in meta and meta["country"] not in config.COUNTRIES:
        problems.append(Problem("pack.toml", f"expected one of: {', '.join(config.COUNTRIES)}", column="country",
                                value=str(meta["country"])))
    if "base_year" in meta and (problem := whole_number_problem("pack.toml", "base_year", meta["base_year"],
                                                                YEAR_MIN, YEAR_MAX)):
        problems.append(problem)
    # Issue 19: 0 (nothing withheld) and true (a bool, which Python counts as 1) were accepted.
    if problem := whole_number_problem("pack.toml", "suppress_below", meta["suppress_below"], *SUPPRESS_RANGE,
                                       hint="; counts of people under it are withheld (5 is usual)"):
        problems.append(problem)
    problems += _band_problems(meta)
    return meta


def _band_problems(meta: dict) -> list[Problem]:
    """flag_ratio_low / flag_ratio_high (optional): numbers with 0 < low ≤ 1 ≤ high, e.g. 0.8 and 1.25."""
    low, high = meta.get("flag_ratio_low", 0.8), meta.get("flag_ratio_high", 1.25)
    fine = all(type(v) in (int, float) for v in (low, high)) and 0 < low <= 1 <= high < float("inf")
    if fine:
        return []
    return [Problem("pack.toml", "expected numbers without quotes with 0 < flag_ratio_low ≤ 1 ≤ flag_ratio_high "
                    "(e.g. 0.8 and 1.25): representation ratios between them are too close to 1 to flag",
                    column=key, value=str(meta.get(key, ""))) for key in ("flag_ratio_low", "flag_ratio_high")
            if key in meta]


def file_problems(path: Path) -> list[Problem]:
    """The checks of pack.toml and of each contract file present in `path`, file by file (no references between
    files): what an importer runs on the pack it has written before that pack replaces anything."""
    problems: list[Problem] = []
    _read_meta(path, problems)
    for spec in ALL_FILES:
        if (path / spec.name).is_file():
            problems += read_csv(path / spec.name, spec)[1]
    return problems


def _read_areas(path: Path, problems: list[Problem]) -> tuple[dict, pd.DataFrame]:
    file, name = path / "areas.geojson", "areas.geojson"
    empty = pd.DataFrame(columns=list(AREA_PROPERTIES))
    if not file.is_file():
        problems.append(Problem(name, "the file is missing; every pack needs its small-area boundaries"))
        return {}, empty
    try:
        geojson = json.loads(file.read_text(encoding="utf-8-sig"))
        features = geojson["features"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        problems.append(Problem(name, f"is not a GeoJSON FeatureCollection ({exc})"))
        return {}, empty
    before = len(problems)
    rows = [_check_feature(i, f, problems) for i, f in enumerate(features, start=1)]
    areas = pd.DataFrame([r for r in rows if r], columns=list(AREA_PROPERTIES))
    for code in areas.loc[areas["area_code"].duplicated(), "area_code"]:
        problems.append(Problem(name, "duplicate area_code: each small area must appear once", column="area_code",
                                value=code))
    if not features:
        problems.append(Problem(name, "holds no features; it needs one polygon per small area"))
    return (geojson if len(problems) == before else {}), areas


def _check_feature(number: int, feature: dict, problems: list[Problem]) -> dict | None:
    """Check one feature's properties and geometry; `number` counts features from 1."""
    props = feature.get("properties") or {}
    where = dict(file="areas.geojson", row=number)
    missing = [p for p in AREA_PROPERTIES if not str(props.get(p, "") or "").strip()]
    for prop in missing:
        problems.append(Problem(message="the feature needs this property (not blank)", column=prop, **where))
    geometry = feature.get("geometry") or {}
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        problems.append(Problem(message="expected a Polygon or MultiPolygon geometry", column="geometry",
                                value=str(geometry.get("type")), **where))
    else:
        try:
            minx, miny, maxx, maxy = shapely.geometry.shape(geometry).bounds
            if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
                problems.append(Problem(message="coordinates are not longitude/latitude; reproject to EPSG:4326",
                                        column="geometry", value=f"{minx:.0f}, {miny:.0f}", **where))
        except (ValueError, TypeError, shapely.errors.ShapelyError) as exc:
            problems.append(Problem(message=f"the geometry cannot be read ({exc})", column="geometry", **where))
    return None if missing else {p: str(props[p]).strip() for p in AREA_PROPERTIES}


def _read_tables(path: Path, problems: list[Problem], pending: Path | None = None,
                 layout: dict[str, list[batches.Part]] | None = None) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    for spec in ALL_FILES:
        file = path / spec.name
        if spec.name in batches.BATCH_FILES:  # issue 7: the base file plus every committed upload batch
            frame, found, parts = batches.read_ledger(path, spec, pending)
            problems += found
            if layout is not None:
                layout[spec.name] = parts
            tables[spec.table_name] = frame if frame is not None else _empty(spec)
            continue
        if not file.is_file():
            if spec.required:
                problems.append(Problem(spec.name, "the file is missing; see SCHEMA.md for its columns"))
            tables[spec.table_name] = _empty(spec)
            continue
        frame, found = read_csv(file, spec)
        problems += found
        tables[spec.table_name] = frame if frame is not None else _empty(spec)
    return tables


def _empty(spec: FileSpec) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=str) for c in spec.columns})


def _cross_checks(meta: dict, areas: pd.DataFrame, t: dict[str, pd.DataFrame]) -> list[Problem]:
    """References between files: every code, locality, community, indicator and id must resolve."""
    codes, localities = set(areas["area_code"]), set(areas["locality"])
    communities = set(t["communities"]["community"].str.strip())
    problems = [
        *reference_problems("population.csv", t["population"], "area_code", codes, "area_code from areas.geojson"),
        *reference_problems("deprivation.csv", t["deprivation"], "area_code", codes, "area_code from areas.geojson"),
        *reference_problems("projections.csv", t["projections"], "geography", localities | {str(meta["name"])},
                            "geography (the pack name in pack.toml, or a locality)"),
        *reference_problems("communities.csv", t["communities"], "locality", localities, "locality",
                            allow=(config.ALL_LOCALITIES,)),
        *reference_problems("need_gradient.csv", t["need_gradient"], "indicator",
                            set(t["need_indicators"]["indicator"]), "indicator from need_indicators.csv"),
        *_range_problems(t),
        *_ledger_checks(t, codes, localities, communities),
        *_insight_checks(t, localities, communities),
        *_coverage_problems(areas, t),
    ]
    return problems + _projection_base_problems(meta, t["projections"])


def _range_problems(t: dict[str, pd.DataFrame]) -> list[Problem]:
    problems = []
    for file, table, column, top in (("deprivation.csv", "deprivation", "quintile", 5),
                                     ("deprivation.csv", "deprivation", "decile", 10),
                                     ("need_gradient.csv", "need_gradient", "quintile", 5)):
        allowed = {str(i) for i in range(1, top + 1)}
        problems += reference_problems(file, t[table], column, allowed, f"{column} (1 = most deprived)")
    return problems


def _ledger_checks(t: dict[str, pd.DataFrame], codes: set[str], localities: set[str],
                   communities: set[str]) -> list[Problem]:
    acts, resp = t["activities"], t["responses"]
    problems = [
        *reference_problems("activities.csv", acts, "locality", localities, "locality",
                            allow=(config.ALL_LOCALITIES,)),
        *reference_problems("activities.csv", acts, "area_code", codes, "area_code from areas.geojson"),
        *reference_problems("activities.csv", acts, "communities", communities, "community from communities.csv"),
        *reference_problems("responses.csv", resp, "activity_id", set(acts["activity_id"]),
                            "activity_id from activities.csv"),
        *reference_problems("responses.csv", resp, "area_code", codes, "area_code from areas.geojson"),
        *reference_problems("responses.csv", resp, "communities", communities, "community from communities.csv"),
        *reference_problems("panel.csv", t["panel"], "area_code", codes, "area_code from areas.geojson"),
    ]
    if len(t["priorities"]):
        problems += reference_problems("responses.csv", resp, "priorities", set(t["priorities"]["code"]),
                                       "priority code from priorities.csv")
    backwards = acts["end_date"] < acts["start_date"]  # ISO dates compare correctly as text
    for i in backwards[backwards].index:
        problems.append(Problem("activities.csv", "end_date is before start_date; swap them or correct the date",
                                row=int(i) + 2, column="end_date", value=acts.at[i, "end_date"]))
    return problems + _response_date_problems(acts, resp)


def _insight_checks(t: dict[str, pd.DataFrame], localities: set[str], communities: set[str]) -> list[Problem]:
    """Issue 22: comments belong to a response, insights to an activity, actions answer insights; places,
    communities and priorities resolve; a decision not taken says why."""
    places = dict(known=localities, what="locality (or All)", allow=(config.ALL_LOCALITIES,))
    problems = [
        *reference_problems("comments.csv", t["comments"], "response_id", set(t["responses"]["response_id"]),
                            "response_id from responses.csv"),
        *reference_problems("insights.csv", t["insights"], "activity_id", set(t["activities"]["activity_id"]),
                            "activity_id from activities.csv"),
        *reference_problems("actions.csv", t["actions"], "insight_ids", set(t["insights"]["insight_id"]),
                            "insight_id from insights.csv"),
    ]
    for file, table in (("insights.csv", "insights"), ("stories.csv", "stories")):
        problems += reference_problems(file, t[table], "locality", **places)
        problems += reference_problems(file, t[table], "communities", communities, "community from communities.csv")
        if len(t["priorities"]):
            problems += reference_problems(file, t[table], "priorities", set(t["priorities"]["code"]),
                                           "priority code from priorities.csv")
    actions = t["actions"]
    if len(actions):
        unexplained = (actions["status"].str.strip() == "not_taken") & (actions["reason"].str.strip() == "")
        problems += spell_out("actions.csv", "reason", actions, unexplained, "a decision not taken needs its reason "
                              "(people are told the decisions made and the reasons why): write it in 'reason'")
    return problems


def _response_date_problems(acts: pd.DataFrame, resp: pd.DataFrame) -> list[Problem]:
    """Issue 19: a response dated before its activity's start_date, or more than RESPONSE_GRACE_DAYS after its
    end_date (late returns are allowed that long), is a typing slip or the wrong activity_id."""
    def day(values: pd.Series) -> pd.Series:  # dates the contract refuses are reported already, so left out here
        parsed = pd.to_datetime(values.str.strip(), format="%Y-%m-%d", errors="coerce")
        return parsed.where(parsed.dt.year.between(YEAR_MIN, YEAR_MAX))
    window = pd.DataFrame({"start": day(acts["start_date"]).to_numpy(), "end": day(acts["end_date"]).to_numpy()},
                          index=acts["activity_id"].str.strip().to_numpy())
    window = window[~window.index.duplicated()]
    dated = window.reindex(resp["activity_id"].str.strip()).set_axis(resp.index).assign(on=day(resp["submitted_on"]))
    early = dated["on"] < dated["start"]
    late = dated["on"] > dated["end"] + pd.Timedelta(days=RESPONSE_GRACE_DAYS)
    rules = ((early, "start", "is before its activity's start_date{}; a response cannot come before its activity: "
                              "correct the date, or the activity_id"),
             (late, "end", f"is more than {RESPONSE_GRACE_DAYS} days after its activity's end_date{{}}; correct the "
                           "date, the activity_id, or the activity's end_date"))
    problems = []
    for mask, bound, message in rules:  # each row's message names its activity's date
        problems += spell_out("responses.csv", "submitted_on", resp, mask, message.format("").split(";")[0],
                              lambda i: (message.format(f" ({dated.at[i, bound]:%Y-%m-%d})"),
                                         resp.at[i, "submitted_on"]))
    return problems


def _coverage_problems(areas: pd.DataFrame, t: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every small area needs a population and a deprivation rank, or the maps have holes."""
    problems = []
    for file, table in (("population.csv", "population"), ("deprivation.csv", "deprivation")):
        absent = sorted(set(areas["area_code"]) - set(t[table]["area_code"]))
        if absent:
            shown = ", ".join(absent[:20]) + (" …" if len(absent) > 20 else "")
            problems.append(Problem(file, f"{len(absent)} area(s) in areas.geojson have no rows here: {shown}",
                                    column="area_code"))
    return problems


def _projection_base_problems(meta: dict, projections: pd.DataFrame) -> list[Problem]:
    """The ratio method needs the partnership's projection for the base year in every variant."""
    whole = projections[projections["geography"] == str(meta["name"])]
    problems = []
    if whole.empty:
        problems.append(Problem("projections.csv", f"no rows for the whole partnership; set geography to the pack "
                                                   f"name '{meta['name']}'", column="geography"))
    for variant, rows in whole.groupby("variant"):
        if str(meta["base_year"]) not in set(rows["year"]):
            problems.append(Problem("projections.csv", f"variant '{variant}' has no rows for the base year "
                                                       f"{meta['base_year']} of pack.toml", column="year"))
    return problems


_INT = ("population", "rank", "decile", "quintile", "year", "participants", "population_low", "population_high",
        "target_min") + tuple(f"{d}_rank" for d in DOMAINS)
_FLOAT = ("rate", "relative_rate")
_DATES = ("start_date", "end_date", "submitted_on", "joined_on", "published_on", "reported_back_on", "told_on")


def _typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns → the contract's types (validated already, so conversion cannot fail)."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column].str.strip()
        if column in _INT:
            frame[column] = pd.to_numeric(values.replace("", None), errors="coerce").astype("Int64")
        elif column in _FLOAT:
            frame[column] = pd.to_numeric(values).astype(float)
        elif column in _DATES:
            frame[column] = pd.to_datetime(values.replace("", None), format="%Y-%m-%d").dt.date
        else:
            frame[column] = values
    return frame
