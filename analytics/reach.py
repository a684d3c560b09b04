"""Who engagement has heard, joined to who lives there and who needs care.

Filters (all optional, the same everywhere): date_from, date_to ('YYYY-MM-DD'), method, partner and locality
('All' = any). `locality` is where respondents live. Every table of respondents has one base (issue 18: two
bases differenced give the people between them): respondents aged `min_age`+ (default 15: five-year bands cannot
split at 16) whose home area, age band and sex (F or M) are known, set against residents of those ages.
Every function returns counts already published through disclosure control (analytics/disclosure.py: cell-key
perturbation, then withheld under the threshold), and computes every share, rate, interval and flag from them;
`exact=True` (signed-in editors only) gives the true counts, unprotected.
"""
from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pandas as pd

from analytics import config, design, stats
from analytics.db import Store
from analytics.disclosure import WITHHELD, perturb, withhold

FILTERS = {"date_from": "0001-01-01", "date_to": "9999-12-31", "method": "All", "partner": "All",
           "locality": "All"}
DIMENSIONS = ("locality", "quintile", "sex", "age_band", "age_group", "community")
AGE_GROUPS = {"15-34": (15, 34), "35-64": (35, 64), "65-84": (65, 84), "85+": (85, 200)}
DERIVED = ("respondent_share", "ratio", "ratio_low", "ratio_high", "design_effect")
SHORTFALL = DERIVED + ("shortfall", "shortfall_low", "shortfall_high")


class ReachInputError(ValueError):
    """A filter or dimension the reach functions do not know."""


def filters(**given: str) -> dict[str, str]:
    """The filters with defaults; a period always covers whole calendar months (issue 18: periods a day apart
    differenced to the people who answered that day), so date_from moves to the first of its month and date_to
    to the last of its."""
    unknown = set(given) - set(FILTERS)
    if unknown:
        raise ReachInputError(f"unknown filter(s) {sorted(unknown)}; use {sorted(FILTERS)}")
    f = {**FILTERS, **{k: str(v) for k, v in given.items() if v is not None}}
    try:
        start, end = date.fromisoformat(f["date_from"]), date.fromisoformat(f["date_to"])
    except ValueError as exc:
        raise ReachInputError(f"a date must be written YYYY-MM-DD, such as 2025-09-01 ({exc})") from None
    f["date_from"] = start.replace(day=1).isoformat()
    f["date_to"] = end.replace(day=calendar.monthrange(end.year, end.month)[1]).isoformat()
    return f


def months(first: str, last: str) -> list[str]:
    """The calendar months ('YYYY-MM') from the month of `first` to that of `last`."""
    return [p.strftime("%Y-%m") for p in pd.period_range(first[:7], last[:7], freq="M")]


def threshold(con: Store) -> int:
    return int(con.meta().get("suppress_below", config.DEFAULT_SUPPRESS_BELOW))


def _dims(dimension: str | tuple[str, ...]) -> tuple[str, ...]:
    dims = tuple(dimension.split("+")) if isinstance(dimension, str) else tuple(dimension)
    bad = [d for d in dims if d not in DIMENSIONS]
    if bad or not dims:
        raise ReachInputError(f"unknown dimension {bad or dimension!r}; use {', '.join(DIMENSIONS)} or a "
                              f"combination joined by '+', such as 'locality+age_band+sex'")
    return dims


_LOWER = {band: config.band_lower(band) for band in config.AGE_BANDS}
_GROUP = {band: next((g for g, (lo, hi) in AGE_GROUPS.items() if lo <= low <= hi), None)
          for band, low in _LOWER.items()}


def _with_age_group(frame: pd.DataFrame, min_age: int) -> pd.DataFrame:
    """Keep rows aged min_age+ and add the broad age_group (dict look-ups: this runs on every cell table, so no
    per-row Python)."""
    lower = frame["age_band"].map(_LOWER)
    frame = frame[lower >= min_age].copy()
    frame["age_group"] = frame["age_band"].map(_GROUP)
    return frame


def _base(frame: pd.DataFrame, min_age: int) -> pd.DataFrame:
    """The respondents every table counts: aged min_age+, with home area (locality, quintile) and sex F or M known."""
    frame = _with_age_group(frame, min_age)
    return frame[frame["sex"].isin(["F", "M"]) & frame["locality"].notna() & frame["quintile"].notna()]


def _publish(table: pd.DataFrame, limit: int, exact: bool, count: str = "respondents",
             key: str = "ckey") -> pd.DataFrame:
    """Replace the true counts by published ones (perturbed by their cell keys, which are dropped)."""
    if not exact:
        table = table.assign(**{count: perturb(table[count].fillna(0), table[key].fillna(0), limit).astype(float)})
    return table.drop(columns=[key])


def _published_total(cells: pd.DataFrame, limit: int, exact: bool) -> float:
    """All the respondents of `cells` as one published count (NaN when withheld)."""
    total = _publish(cells[["respondents", "ckey"]].sum().to_frame().T, limit, exact)["respondents"].iloc[0]
    return float(total) if total >= _shown(limit, exact) else float("nan")


def _shown(limit: int, exact: bool) -> int:
    """The threshold a published count must reach to be shown: none for editors' exact counts."""
    return 0 if exact else limit


def respondent_cells(con: Store, min_age: int = 15, **given: str) -> pd.DataFrame:
    """Respondents of the base by locality, neighbourhood_code, quintile, sex, age_band, age_group, method, partner,
    with ckey (the sum of their record keys: true counts, for analytics/ only)."""
    return _base(con.query("respondent_cells", **filters(**given)), min_age)


def population_cells(con: Store, min_age: int = 15, locality: str = "All") -> pd.DataFrame:
    """Residents by locality, neighbourhood_code, quintile, sex, age_band, age_group."""
    cells = _with_age_group(con.query("population_cells"), min_age)
    return cells if locality == "All" else cells[cells["locality"] == locality]


def design_cells(con: Store, min_age: int = 15, **given: str) -> pd.DataFrame:
    """Respondents of the base by activity_id (with open_survey, method and partner), locality, quintile, sex,
    age_band and age_group, with ckey: the clusters analytics/design.py needs (true counts, for analytics/ only)."""
    return _base(con.query("design_cells", surveys=list(config.SURVEY_METHODS), **filters(**given)), min_age)


# Hidden columns _ratios adds for _decide, which drops them: the exact count, the test's p-value and the gap
# ratio, and the same two for a count of threshold − 1 (what a withheld group's flag may rest on).
_HIDDEN = ("_count", "_p", "_gap", "_p_small", "_gap_small")


def _ratios(table: pd.DataFrame, units: design.Units, share: pd.Series, limit: int,
            share_range: tuple[pd.Series, pd.Series] | None = None, n: float | None = None) -> pd.DataFrame:
    """Shares, the representation ratio with its design-based 95% interval, the design effect, and what
    _decide needs to flag each group after withholding, all from the published `respondents` and `n` (the
    published respondents of the base; default: the table's published groups, which then add up to it). The
    design effect comes from the activities' true counts, rounded to one decimal, so it says nothing about one
    cell. `share_range` (low, high) is the population share's range where the population is an estimate; the
    ratio interval then covers it (analytics/design.py)."""
    table = table.copy()
    s = share.to_numpy(float)
    heard = table["respondents"].to_numpy(float)
    n = float(heard.sum()) if n is None else float(n)
    n = n if np.isfinite(n) else 0.0  # the base itself withheld: no share can be shown
    low_s, high_s = (s, s) if share_range is None else (share_range[0].fillna(share).to_numpy(float),
                                                       share_range[1].fillna(share).to_numpy(float))
    got = design.share_design(units).rounded()
    table["respondent_share"] = heard / n if n else np.nan
    low, high = design.share_interval(heard, n, got.deff, got.df)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["ratio"] = table["respondent_share"] / s
        table["ratio_low"], table["ratio_high"] = low / high_s, high / low_s
    table["design_effect"] = got.deff
    usable = np.isfinite(s) & (s > 0)
    table["flag"] = np.where(usable, "in line", "no denominator")
    small = np.full(len(table), max(limit - 1, 0) / n) if n else np.zeros(len(table))
    for suffix, p, deff in (("", table["respondent_share"].fillna(0).to_numpy(float), got.deff),
                            ("_small", small, np.full(len(table), got.pooled_deff))):
        table[f"_p{suffix}"] = np.where(usable, design.p_values(p, n, deff, got.df, low_s, high_s), 1.0)
        table[f"_gap{suffix}"] = np.where(usable, design.gap_ratio(p, low_s, high_s), 1.0)
    table["_count"] = heard
    return table


def _against_targets(table: pd.DataFrame) -> pd.DataFrame:
    """Groups with no reliable denominator but a target_min: a count against a goal, not an estimate, so the
    ratio is respondents ÷ target with no interval, and the flag says whether the target is met."""
    target = table["target_min"].astype(float) if "target_min" in table else pd.Series(np.nan, index=table.index)
    use = (table["flag"] == "no denominator") & target.gt(0)
    table.loc[use, "ratio"] = table.loc[use, "respondents"] / target[use]
    table.loc[use, ["ratio_low", "ratio_high", "design_effect"]] = np.nan
    table.loc[use, "flag"] = np.where(table.loc[use, "respondents"] < target[use], "under target", "target met")
    return table


def _decide(table: pd.DataFrame, limit: int, band: tuple[float, float], out: str = "flag",
            suffix: str = "") -> pd.DataFrame:
    """Flag the groups of one table (a family) once suppression is known: 'under' / 'over' where Holm's test
    rejects "heard in proportion" at 5% family-wise and the gap ratio lies outside `band`, else 'in line'.
    A withheld group may only say what withholding says already: 'under' when even threshold − 1 heard would be
    flagged under (only for a group withheld for its own small count), else 'withheld'; its place in Holm's
    family is taken by that bound's p-value (never smaller than its own), so shown flags do not depend on it.
    Target groups: 'under target' / 'target met', and 'withheld' unless withholding already implies the first."""
    table = table.copy()
    hidden = table["withheld"].to_numpy(bool)
    primary = hidden & (table["_count"].to_numpy(float) < limit)
    tested = (table[out] != "no denominator").to_numpy() & ~table[out].isin(["under target", "target met"])
    gap = np.where(hidden, table[f"_gap_small{suffix}"], table[f"_gap{suffix}"])
    p = np.where(hidden, np.where(primary & (gap < 1), table[f"_p_small{suffix}"], 1.0), table[f"_p{suffix}"])
    reject = np.zeros(len(table), bool)
    reject[tested] = design.holm(p[tested])
    verdict = np.select([reject & (gap < band[0]), reject & (gap > band[1])], ["under", "over"], "in line")
    table.loc[tested, out] = np.where(hidden, np.where(verdict == "under", "under", WITHHELD), verdict)[tested]
    if "target_min" in table:
        target = table["target_min"].astype(float).to_numpy()
        targeted = hidden & table[out].isin(["under target", "target met"]).to_numpy()
        table.loc[targeted, out] = np.where(primary & (target >= limit), "under target", WITHHELD)[targeted]
    return table


def _finish(table: pd.DataFrame, limit: int, band: tuple[float, float]) -> pd.DataFrame:
    return _decide(table, limit, band).drop(columns=list(_HIDDEN))


def representation(con: Store, dimension: str | tuple[str, ...], min_age: int = 15, exact: bool = False,
                   **given: str) -> pd.DataFrame:
    """One row per group. Columns: group, <dimension columns>, respondents (published), population,
    respondent_share, population_share, ratio, ratio_low, ratio_high (95%, design-based: analytics/design.py),
    design_effect, flag (under / over / in line / no denominator / under target / target met / withheld), withheld.
    Communities without a population estimate are measured against their target_min (population_share blank,
    ratio = respondents ÷ target, no interval)."""
    dims, limit = _dims(dimension), threshold(con)
    table = _representation_raw(con, dims, min_age, exact, **given)
    return _finish(withhold(table, "respondents", _shown(limit, exact), DERIVED), limit, flag_band(con))


def flag_band(con: Store) -> tuple[float, float]:
    """Ratios between these two are too close to 1 to flag (pack.toml's flag_ratio_low / flag_ratio_high)."""
    return design.band(con.meta())


def clustering(con: Store, dimension: str, min_age: int = 15, exact: bool = False, **given: str) -> dict[str, float]:
    """How clustered the respondents of a representation table are: activities (clusters), open_surveys (counted
    respondent by respondent), design_effect (pooled over the dimension's groups) and wider (how many times
    wider the intervals are than if respondents were independent: √design_effect)."""
    dims = _dims(dimension)
    f = filters(**given)
    if "community" in dims:
        _, units, _ = _community_groups(con, f["locality"], min_age, f, threshold(con), exact)
    else:
        _, units = _groups(design_cells(con, min_age, **f), population_cells(con, min_age, f["locality"]), dims,
                           threshold(con), exact)
    got = design.share_design(units).rounded()
    return {"activities": got.activities, "open_surveys": got.open_surveys,
            "design_effect": got.pooled_deff, "wider": float(np.sqrt(got.pooled_deff))}


def _representation_raw(con: Store, dims: tuple[str, ...], min_age: int, exact: bool, **given: str) -> pd.DataFrame:
    if "community" in dims:
        return _community_representation(con, dims, min_age, exact, **given)
    f, limit = filters(**given), threshold(con)
    table, units = _groups(design_cells(con, min_age, **f), population_cells(con, min_age, f["locality"]), dims,
                           limit, exact)
    table["population_share"] = table["population"] / table["population"].sum()
    table = _ratios(table, units, table["population_share"], limit)
    table.insert(0, "group", _group_names(table, dims))
    return table


def _groups(cells: pd.DataFrame, pop: pd.DataFrame, dims: tuple[str, ...], limit: int,
            exact: bool) -> tuple[pd.DataFrame, design.Units]:
    """Residents and published respondents per group of `dims`, and the activities that heard them (true
    counts: they give the design effect only)."""
    table = _cell_table(cells, pop, dims, "population")
    cells = cells.merge(table[list(dims)], on=list(dims))
    return _publish(table, limit, exact), design.Units.from_cells(cells, cells, table, list(dims))


def _cell_table(resp: pd.DataFrame, base: pd.DataFrame, dims: tuple[str, ...], value: str) -> pd.DataFrame:
    """Base (population or need) and respondents (true, with their ckey) per group of `dims`."""
    heard = resp.groupby(list(dims))[["respondents", "ckey"]].sum()
    table = base.groupby(list(dims))[value].sum().to_frame().join(heard)
    return table.fillna({"respondents": 0, "ckey": 0}).reset_index()


def _group_names(table: pd.DataFrame, dims: tuple[str, ...]) -> pd.Series:
    """Readable names: 'Men aged 15-34 in Eastfield', 'People in quintile 1 areas', 'Westhaven'."""
    def name(row: pd.Series) -> str:
        who = {"F": "Women", "M": "Men"}.get(str(row["sex"]), "People") if "sex" in dims else ""
        age = next((f"aged {row[d]}" for d in ("age_group", "age_band") if d in dims), "")
        place = f"in {row['locality']}" if "locality" in dims else ""
        if not (who or age):
            return " ".join(filter(None, (place.removeprefix("in "),
                                          f"Quintile {row['quintile']}" if "quintile" in dims else "")))
        area = f"in quintile {row['quintile']} areas" if "quintile" in dims else ""
        return " ".join(filter(None, (who or "People", age, place, area)))
    return table.apply(name, axis=1)


def _community_representation(con: Store, dims: tuple[str, ...], min_age: int, exact: bool,
                              **given: str) -> pd.DataFrame:
    if set(dims) - {"community", "locality"}:
        raise ReachInputError("communities combine only with locality ('locality+community')")
    f = filters(**given)
    if "locality" not in dims:
        table = _communities_in(con, f["locality"], min_age, f, exact)
        table.insert(0, "group", table["community"])
        return table
    table = _communities_by_locality(con, min_age, f, exact)
    table.insert(0, "group", table["locality"] + ", " + table["community"])
    return table


def _communities_by_locality(con: Store, min_age: int, f: dict[str, str], exact: bool) -> pd.DataFrame:
    """`_communities_in` for every locality, from one pass over the responses grouped by home locality (one
    pass per locality took 2.6 s on a national-scale pack)."""
    anywhere = {**f, "locality": config.ALL_LOCALITIES}
    rows = con.query("community_respondents", min_age=min_age, **anywhere)
    cells = design_cells(con, min_age, **anywhere)
    residents = population_cells(con, min_age).groupby("locality")["population"].sum()
    return pd.concat([_communities_in(con, place, min_age, f, exact, cells=cells[cells["locality"] == place],
                                      residents=residents[place], heard=rows[rows["locality"] == place])
                      for place in sorted(residents.index)], ignore_index=True)


def _community_groups(con: Store, place: str, min_age: int, f: dict[str, str], limit: int, exact: bool,
                      cells: pd.DataFrame | None = None,
                      heard: pd.DataFrame | None = None) -> tuple[pd.DataFrame, design.Units, float]:
    """Each community's estimate (or target) and published respondents living in `place`, the activities that
    heard them, and the published respondents there (communities overlap, so theirs do not add up to it);
    `cells` (design_cells there) and `heard` (community_respondents rows there) when the caller has them."""
    scoped = {**f, "locality": place}
    if heard is None:
        heard = con.query("community_respondents", min_age=min_age, **scoped)
    cells = design_cells(con, min_age, **scoped) if cells is None else cells
    table = con.query("community_denominators", locality=place)
    counted = heard.groupby("community")[["respondents", "ckey"]].sum()
    table[["respondents", "ckey"]] = counted.reindex(table["community"]).fillna(0).to_numpy()
    everyone = _published_total(cells, limit, exact)
    return _publish(table, limit, exact), design.Units.from_cells(heard, cells, table, ["community"]), everyone


def _communities_in(con: Store, place: str, min_age: int, f: dict[str, str], exact: bool,
                    cells: pd.DataFrame | None = None, residents: float | None = None,
                    heard: pd.DataFrame | None = None) -> pd.DataFrame:
    """Community representation among respondents living in `place` ('All' = anywhere); `cells` (design_cells
    of respondents there), `residents` and `heard` (community_respondents rows there), when the caller has
    them already. A community's population range gives its share's range."""
    if residents is None:
        residents = population_cells(con, min_age, place)["population"].sum()
    limit = threshold(con)
    table, units, everyone = _community_groups(con, place, min_age, f, limit, exact, cells, heard)
    shares = {c: (table[c].astype(float) / residents).clip(upper=1)
              for c in ("population", "population_low", "population_high")}
    table["population_share"] = shares["population"]
    table = _ratios(table, units, table["population_share"], limit,
                    (shares["population_low"], shares["population_high"]), n=everyone)
    return _against_targets(table).assign(locality=place)


def scores(con: Store, dimension: str = "age_band+sex", by: str | None = None, min_age: int = 15,
           exact: bool = False, **given: str) -> pd.DataFrame:
    """Representativeness for the whole engagement (by=None) or per method / partner. Columns: [by],
    respondents (published, as one cell), proportional_similarity (Σ min of shares), minmax_ratio (lowest ÷
    highest participation rate), both from the published counts of the dimension's groups. Scores for fewer
    respondents than the threshold are withheld."""
    dims, limit = _dims(dimension), threshold(con)
    f = filters(**given)
    resp = respondent_cells(con, min_age, **f)
    pop = population_cells(con, min_age, f["locality"]).groupby(list(dims))["population"].sum()
    groups = [("All", resp)] if by is None else list(resp.groupby(by))
    rows = []
    for key, part in groups:
        cells = part.groupby(list(dims))[["respondents", "ckey"]].sum().reindex(pop.index, fill_value=0)
        heard = _publish(cells, limit, exact)["respondents"]
        total = _published_total(part, limit, exact)
        empty = heard.sum() == 0  # no one heard: the scores are undefined, not zero
        rows.append({by or "scope": key, "respondents": total,
                     "proportional_similarity": np.nan if empty else stats.proportional_similarity(
                         pop / pop.sum(), heard / heard.sum()),
                     "minmax_ratio": np.nan if empty else stats.participation_ratio_minmax(heard.to_numpy(),
                                                                                           pop.to_numpy())})
    table = pd.DataFrame(rows, columns=[by or "scope", "respondents", "proportional_similarity", "minmax_ratio"])
    return withhold(table, "respondents", _shown(limit, exact), ("proportional_similarity", "minmax_ratio"))


def ledger_options(con: Store) -> dict[str, list[str]]:
    """{'method': [...], 'partner': [...], 'first_date': [d], 'last_date': [d]} for the filter widgets; with an
    empty ledger the dates are the pack's base year."""
    rows = con.query("ledger_options").dropna()
    options = {kind: list(part["value"]) for kind, part in rows.groupby("kind")}
    base = con.meta()["base_year"]
    return {"method": [], "partner": [], "first_date": [f"{base}-01-01"], "last_date": [f"{base}-12-31"],
            **options}


def coverage_by_locality(con: Store, min_age: int = 15, exact: bool = False, **given: str) -> pd.DataFrame:
    """Columns: locality, residents (aged min_age+), activities (held there, not counting partnership-wide ones),
    participants (published), respondents (published, the one base), per_1000 with per_1000_low/high (95%,
    design-based: the locality's share of respondents, clustered by activity, as a rate), design_effect and flag
    ('below', 'above' or 'within': the locality's share of respondents against its share of residents, flagged
    as representation flags are). The comparison is always with the whole partnership, so a locality's flag is
    the same with the filter on it."""
    f, limit = filters(**given), threshold(con)
    anywhere = {**f, "locality": "All"}
    table, units = _groups(design_cells(con, min_age, **anywhere), population_cells(con, min_age), ("locality",),
                           limit, exact)
    acts = _participants(con, anywhere, "locality", limit, exact)
    table = table.rename(columns={"population": "residents"}).merge(acts, on="locality", how="left").fillna(
        {"activities": 0})  # no activity held there: its participants are withheld like any count under the threshold
    table = table[["locality", "residents", "activities", "participants", "respondents"]]
    rated = _ratios(table, units, table["residents"] / table["residents"].sum(), limit)
    n = rated["respondents"].sum()
    # share → respondents per 1,000 residents: p·N/residents; the interval's ratio × share gives its p.
    table = rated.assign(per_1000=1000 * rated["respondents"] / rated["residents"],
                         per_1000_low=1000 * rated["ratio_low"] * n / rated["residents"].sum(),
                         per_1000_high=1000 * rated["ratio_high"] * n / rated["residents"].sum())
    table = withhold(table, "respondents", _shown(limit, exact), ("per_1000", "per_1000_low", "per_1000_high",
                                                                 *DERIVED))
    table = _finish(table, limit, flag_band(con))  # the whole partnership is the family, filter or not
    table["flag"] = table["flag"].replace({"under": "below", "over": "above", "in line": "within"})
    if f["locality"] != "All":
        table = table[table["locality"] == f["locality"]]
    return table.drop(columns=["respondent_share", "ratio", "ratio_low", "ratio_high"])


def _participants(con: Store, f: dict[str, str], by: str | list[str], limit: int, exact: bool) -> pd.DataFrame:
    """Activities (not personal data: exact) and participants (head counts: published, keyed by the activities
    counted) held in each `by` group; partnership-wide activities are left out of localities."""
    acts = con.query("activities_filtered", **f)
    if by == "locality":
        acts = acts[acts["locality"] != config.ALL_LOCALITIES]
    table = acts.groupby(by).agg(activities=("activity_id", "size"), participants=("participants", "sum"),
                                 akey=("akey", "sum")).reset_index()
    table = _publish(table, limit, exact, "participants", "akey")
    return withhold(table, "participants", _shown(limit, exact)).drop(columns="withheld")


def overall_rate(con: Store, min_age: int = 15, exact: bool = False, **given: str) -> float:
    """Respondents of the base per 1,000 residents aged min_age+, for the whole area the filters cover (a
    reference line): the published count of them all, NaN when withheld."""
    f = filters(**given)
    heard = _published_total(respondent_cells(con, min_age, **f), threshold(con), exact)
    return 1000 * heard / population_cells(con, min_age, f["locality"])["population"].sum()


def coverage_by_neighbourhood(con: Store, min_age: int = 15, exact: bool = False, **given: str) -> pd.DataFrame:
    """Columns: neighbourhood_code, neighbourhood_name, locality, residents (aged min_age+), respondents
    (published, the one base), per_1000 with per_1000_low/high (95%, design-based as for localities: the
    neighbourhood's share of respondents, clustered by activity, as a rate), withheld."""
    f, limit = filters(**given), threshold(con)
    cells = _base(con.query("neighbourhood_cells", surveys=list(config.SURVEY_METHODS), **f), min_age)
    residents = population_cells(con, min_age).groupby("neighbourhood_code")["population"].sum()
    table = con.query("neighbourhoods").drop(columns="residents")
    table["residents"] = table["neighbourhood_code"].map(residents).fillna(0)
    heard = cells.groupby("neighbourhood_code")[["respondents", "ckey"]].sum()
    table[["respondents", "ckey"]] = heard.reindex(table["neighbourhood_code"]).fillna(0).to_numpy()
    units = design.Units.from_cells(cells, cells, table, ["neighbourhood_code"])
    table = _publish(table, limit, exact)
    got = design.share_design(units).rounded()
    n = table["respondents"].sum()
    low, high = design.share_interval(table["respondents"].to_numpy(float), n, got.deff, got.df)
    scale = 1000 * n / table["residents"]  # a share of the respondents → respondents per 1,000 residents
    table["per_1000"] = 1000 * table["respondents"] / table["residents"]
    table["per_1000_low"], table["per_1000_high"] = low * scale, high * scale
    if f["locality"] != "All":
        table = table[table["locality"] == f["locality"]]
    return withhold(table, "respondents", _shown(limit, exact), ("per_1000", "per_1000_low", "per_1000_high"))


def method_mix(con: Store, min_age: int = 15, exact: bool = False, **given: str) -> pd.DataFrame:
    """Columns: method, activities, participants and respondents (published; withheld under the threshold)."""
    f, limit = filters(**given), threshold(con)
    resp = respondent_cells(con, min_age, **f).groupby("method")[["respondents", "ckey"]].sum().reset_index()
    table = _participants(con, f, "method", limit, exact).merge(resp, on="method", how="outer")
    table = _publish(table.fillna({"activities": 0, "respondents": 0, "ckey": 0}), limit, exact)
    return withhold(table, "respondents", _shown(limit, exact))


def timeline(con: Store, exact: bool = False, **given: str) -> pd.DataFrame:
    """Activities starting each month by method. Columns: month (first day), method, activities, participants
    (published; withheld under the threshold)."""
    acts = con.query("activities_filtered", **filters(**given))
    acts["month"] = pd.to_datetime(acts["start_date"]).dt.to_period("M").dt.to_timestamp()
    table = acts.groupby(["month", "method"], as_index=False).agg(activities=("activity_id", "size"),
                                                                  participants=("participants", "sum"),
                                                                  akey=("akey", "sum"))
    limit = threshold(con)
    table = _publish(table, limit, exact, "participants", "akey")
    return withhold(table, "participants", _shown(limit, exact)).drop(columns="withheld")


NEED_ONLY = "over residents, under need"  # hard_to_reach's flag for a group short of need only
# Groups the hard-to-reach finder ranks, besides communities: (kind, dimensions).
GAP_GROUPS = (("Locality", ("locality",)), ("Deprivation quintile", ("quintile",)),
              ("Age and sex", ("age_group", "sex")), ("Locality, age and sex", ("locality", "age_group", "sex")))


def hard_to_reach(con: Store, need: str = "all", need_weight: float = 0.5, min_age: int = 15, exact: bool = False,
                  **given: str) -> pd.DataFrame:
    """Every locality, quintile, age-sex cell, locality × age × sex cell and community, ranked by need-weighted
    shortfall: expected = respondents × the group's expected share − respondents heard, where the expected
    share is (1 − need_weight) × population share + need_weight × share of projected need (indicator `need`,
    or 'all' summed). Communities use their population share, or their target_min where they have no estimate.
    Columns: kind, group, respondents, expected, shortfall, shortfall_low, shortfall_high (95%), ratio,
    ratio_low, ratio_high, flag (as representation's, against the need-weighted share; NEED_ONLY where the group
    is under that but over against residents), vs_residents (the flag against the population share alone), best_methods,
    best_partners, withheld, rank_value (the shortfall, or for a
    withheld group its lower bound expected − threshold, so small groups still rank)."""
    f = filters(**given)
    cells = design_cells(con, min_age, **f)
    pop = population_cells(con, min_age, f["locality"])
    need_cells = _with_age_group(con.query("need_cells", indicator=need), min_age)
    if f["locality"] != "All":
        need_cells = need_cells[need_cells["locality"] == f["locality"]]
    # What reached each group elsewhere looks at every method, partner and locality in the period: with none of
    # them chosen that is `cells` itself (at national scale each reading of the respondents costs ~0.5 s).
    only_dates = all(f[k] == FILTERS[k] for k in f if k not in ("date_from", "date_to"))
    context = cells if only_dates else design_cells(con, min_age, date_from=f["date_from"], date_to=f["date_to"])
    limit, gaps = threshold(con), flag_band(con)
    # With one locality chosen, its locality rows and locality × age × sex rows repeat the totals and age × sex.
    kinds = [(kind, dims) for kind, dims in GAP_GROUPS if f["locality"] == "All" or "locality" not in dims]
    parts = [_gap_cells(cells, pop, need_cells, dims, need_weight, context, limit, gaps, exact).assign(kind=kind)
             for kind, dims in kinds]
    parts.append(_gap_communities(con, min_age, f, cells, context, limit, gaps, exact))
    table = pd.concat(parts, ignore_index=True)
    # One meaning of "under" on every page (issue 20): a group heard less than its need share but more than its
    # share of residents (older people, whose need share is large) is not under-reached; its flag says which.
    table.loc[(table["flag"] == "under") & (table["vs_residents"] == "over"), "flag"] = NEED_ONLY
    table["rank_value"] = table["shortfall"].fillna(table["expected"] - limit)
    columns = ["kind", "group", "respondents", "expected", "shortfall", "shortfall_low", "shortfall_high", "ratio",
               "ratio_low", "ratio_high", "flag", "vs_residents", "best_methods", "best_partners", "withheld",
               "rank_value"]
    return table.sort_values("rank_value", ascending=False, ignore_index=True)[columns]


def under_reached(gaps: pd.DataFrame) -> pd.DataFrame:
    """The rows of hard_to_reach under-reached relative to their population and their need: short against the
    need-weighted share (or under a target), and not heard more than their share of residents (those are flagged
    NEED_ONLY: older people, whose need share is large, can be short of it while heard more than in proportion
    to how many they are)."""
    return gaps[gaps["flag"].isin(["under", "under target"])]


def _gap_cells(cells: pd.DataFrame, pop: pd.DataFrame, need_cells: pd.DataFrame, dims: tuple[str, ...],
               weight: float, context: pd.DataFrame, limit: int, gaps: tuple[float, float],
               exact: bool) -> pd.DataFrame:
    table, units = _groups(cells, pop, dims, limit, exact)
    table = table.merge(need_cells.groupby(list(dims))["need"].sum().reset_index(), on=list(dims),
                        how="left").fillna({"need": 0})  # a left merge keeps the rows in the order of `units`
    pop_share = table["population"] / table["population"].sum()
    need_share = table["need"] / table["need"].sum() if table["need"].sum() > 0 else pop_share
    share = (1 - weight) * pop_share + weight * need_share
    residents = _ratios(table, units, pop_share, limit)  # against the residents alone: vs_residents
    table = _shortfall(_ratios(table, units, share, limit), table["respondents"].sum() * share)
    table["vs_residents"] = residents["flag"]
    for column in _HIDDEN[1:]:
        table[f"{column}_res"] = residents[column]
    table["group"] = _group_names(table, dims)
    table["best_methods"], table["best_partners"] = (_best(context, dims, table, share, by, limit, exact)
                                                     for by in ("method", "partner"))
    table = withhold(table, "respondents", _shown(limit, exact), SHORTFALL)
    table = _decide(table, limit, gaps, out="vs_residents", suffix="_res")
    return _finish(table, limit, gaps).drop(columns=[f"{c}_res" for c in _HIDDEN[1:]])


def _shortfall(table: pd.DataFrame, expected: pd.Series) -> pd.DataFrame:
    # The count's interval is the ratio's interval times the expected count, whichever way the ratio was made.
    table["expected"] = expected
    table["shortfall"] = expected - table["respondents"]
    table["shortfall_low"] = expected * (1 - table["ratio_high"])
    table["shortfall_high"] = expected * (1 - table["ratio_low"])
    return table


def published_counts(frame: pd.DataFrame, keys: list[str], limit: int, exact: bool) -> pd.DataFrame:
    """Published respondents per group of `keys` of cell rows with ckey (columns: keys…, respondents; not yet
    withheld)."""
    return _publish(frame.groupby(keys, as_index=False)[["respondents", "ckey"]].sum(), limit, exact)


def _best(context: pd.DataFrame, dims: tuple[str, ...], table: pd.DataFrame, share: pd.Series, by: str,
          limit: int, exact: bool) -> list[str]:
    """For each group, the two methods (or partners) whose respondents over-represent it most (ratio 1.1 or more),
    from published counts, counting only those that are shown (at least `limit` people from it)."""
    totals = published_counts(context, [by], limit, exact).set_index(by)["respondents"]
    heard = published_counts(context, [*dims, by], limit, exact)
    keyed = table[list(dims)].assign(share=share.to_numpy())
    heard = heard.merge(keyed, on=list(dims))
    heard["ratio"] = heard["respondents"] / heard[by].map(totals).astype(float) / heard["share"]
    best = _top_two(heard[(heard["respondents"] >= limit) & (heard["ratio"] >= 1.1)], list(dims), by, "ratio",
                    "{:.1f}×")
    return [best.get(tuple(k), "") for k in table[list(dims)].itertuples(index=False)]


def _top_two(frame: pd.DataFrame, keys: list[str], by: str, score: str, fmt: str) -> dict[tuple, str]:
    """{group key tuple: 'best (score); second (score)'} from the two highest `score` rows of each group."""
    out: dict[tuple, list[str]] = {}
    for row in frame.sort_values(score, ascending=False).itertuples(index=False):
        key = tuple(getattr(row, k) for k in keys)
        if len(out.setdefault(key, [])) < 2:
            out[key].append(f"{getattr(row, by)} ({fmt.format(getattr(row, score))})")
    return {k: "; ".join(v) for k, v in out.items()}


def _gap_communities(con: Store, min_age: int, f: dict[str, str], cells: pd.DataFrame, context: pd.DataFrame,
                     limit: int, gaps: tuple[float, float], exact: bool) -> pd.DataFrame:
    table = _communities_in(con, f["locality"], min_age, f, exact, cells=cells)
    expected = (_published_total(cells, limit, exact) * table["population_share"]).fillna(table["target_min"].astype(float))
    table = _shortfall(table, expected)
    table["group"], table["kind"] = table["community"], "Community"
    heard = con.query("community_respondents", min_age=min_age, **{**FILTERS, "date_from": f["date_from"],
                                                                   "date_to": f["date_to"]})
    for by in ("method", "partner"):
        totals = published_counts(context, [by], limit, exact).set_index(by)["respondents"]
        rows = published_counts(heard, ["community", by], limit, exact)
        rows = rows[rows["respondents"] >= limit]
        rows["rate"] = 100 * rows["respondents"] / rows[by].map(totals).astype(float)
        best = _top_two(rows, ["community"], by, "rate", "{:.1f}% of its respondents")
        table[f"best_{by}s"] = [best.get((c,), "") for c in table["community"]]
    table = table[table["flag"] != "no denominator"]
    table = _finish(withhold(table, "respondents", _shown(limit, exact), SHORTFALL), limit, gaps)
    return table.assign(vs_residents=table["flag"])  # a community has no need share: its flag is against residents
