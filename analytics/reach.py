"""Who engagement has heard, joined to who lives there and who needs care.

Filters (all optional, the same everywhere): date_from, date_to ('YYYY-MM-DD'), method, partner and locality
('All' = any). `locality` is where respondents live. Representation compares residents aged `min_age`+
(default 15: five-year bands cannot split at 16) with respondents of those ages (or of unknown age).
Every function returns counts already passed through disclosure control.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import config, design, stats
from analytics.db import Store
from analytics.disclosure import WITHHELD, suppress, suppress_also

FILTERS = {"date_from": "0001-01-01", "date_to": "9999-12-31", "method": "All", "partner": "All",
           "locality": "All"}
DIMENSIONS = ("locality", "quintile", "sex", "age_band", "age_group", "community")
AGE_GROUPS = {"15-34": (15, 34), "35-64": (35, 64), "65-84": (65, 84), "85+": (85, 200)}
DERIVED = ("respondent_share", "ratio", "ratio_low", "ratio_high", "design_effect")
SHORTFALL = DERIVED + ("shortfall", "shortfall_low", "shortfall_high")


class ReachInputError(ValueError):
    """A filter or dimension the reach functions do not know."""


def filters(**given: str) -> dict[str, str]:
    unknown = set(given) - set(FILTERS)
    if unknown:
        raise ReachInputError(f"unknown filter(s) {sorted(unknown)}; use {sorted(FILTERS)}")
    return {**FILTERS, **{k: str(v) for k, v in given.items() if v is not None}}


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
    """Keep rows aged min_age+ (or of unknown age) and add the broad age_group (dict look-ups: this runs on
    every cell table, so no per-row Python)."""
    lower = frame["age_band"].map(_LOWER)
    frame = frame[lower.isna() | (lower >= min_age)].copy()
    frame["age_group"] = frame["age_band"].map(_GROUP)
    return frame


def respondent_cells(con: Store, min_age: int = 15, **given: str) -> pd.DataFrame:
    """Respondents by locality, neighbourhood_code, quintile, sex, age_band, age_group, method, partner."""
    return _with_age_group(con.query("respondent_cells", **filters(**given)), min_age)


def population_cells(con: Store, min_age: int = 15, locality: str = "All") -> pd.DataFrame:
    """Residents by locality, neighbourhood_code, quintile, sex, age_band, age_group."""
    cells = _with_age_group(con.query("population_cells"), min_age)
    return cells if locality == "All" else cells[cells["locality"] == locality]


def design_cells(con: Store, min_age: int = 15, **given: str) -> pd.DataFrame:
    """Respondents by activity_id (with open_survey, method and partner), locality, quintile, sex, age_band and
    age_group: the clusters analytics/design.py needs."""
    return _with_age_group(con.query("design_cells", surveys=list(config.SURVEY_METHODS), **filters(**given)),
                           min_age)


# Hidden columns _ratios adds for _decide, which drops them: the exact count, the test's p-value and the gap
# ratio, and the same two for a count of threshold − 1 (what a withheld group's flag may rest on).
_HIDDEN = ("_count", "_p", "_gap", "_p_small", "_gap_small")


def _ratios(table: pd.DataFrame, units: design.Units, share: pd.Series, limit: int,
            share_range: tuple[pd.Series, pd.Series] | None = None) -> pd.DataFrame:
    """Shares, the representation ratio with its design-based 95% interval, the design effect, and what
    _decide needs to flag each group after suppression. `share_range` (low, high) is the population share's
    range where the population is an estimate; the ratio interval then covers it (analytics/design.py)."""
    table = table.copy()
    n, s = units.n, share.to_numpy(float)
    low_s, high_s = (s, s) if share_range is None else (share_range[0].fillna(share).to_numpy(float),
                                                       share_range[1].fillna(share).to_numpy(float))
    got = design.share_design(units)
    heard = table["respondents"].to_numpy(float)
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


def representation(con: Store, dimension: str | tuple[str, ...], min_age: int = 15, **given: str) -> pd.DataFrame:
    """One row per group. Columns: group, <dimension columns>, respondents, population, respondent_share,
    population_share, ratio, ratio_low, ratio_high (95%, design-based: analytics/design.py), design_effect,
    flag (under / over / in line / no denominator / under target / target met / withheld), withheld.
    Communities without a population estimate are measured against their target_min (population_share blank,
    ratio = respondents ÷ target, no interval)."""
    dims, limit = _dims(dimension), threshold(con)
    table = _representation_raw(con, dims, min_age, **given)
    gaps = flag_band(con)
    if "community" not in dims:
        return _finish(suppress(table, "respondents", limit, DERIVED, additive=dims), limit, gaps)
    # People belong to several communities, so communities do not add up; but within one community the
    # localities add up to (at most) the community's total shown beside them, so each community is a line.
    others = tuple(d for d in dims if d != "community")
    return _finish(suppress(table, "respondents", limit, DERIVED, additive=() if others else None,
                            totals=(("community",),) if others else ()), limit, gaps)


def flag_band(con: Store) -> tuple[float, float]:
    """Ratios between these two are too close to 1 to flag (pack.toml's flag_ratio_low / flag_ratio_high)."""
    return design.band(con.meta())


def clustering(con: Store, dimension: str, min_age: int = 15, **given: str) -> dict[str, float]:
    """How clustered the respondents of a representation table are: activities (clusters), open_surveys (counted
    respondent by respondent), design_effect (pooled over the dimension's groups) and wider (how many times
    wider the intervals are than if respondents were independent: √design_effect)."""
    dims = _dims(dimension)
    f = filters(**given)
    if "community" in dims:
        _, units = _community_groups(con, f["locality"], min_age, f)
    else:
        _, units = _groups(design_cells(con, min_age, **f), population_cells(con, min_age, f["locality"]), dims)
    got = design.share_design(units)
    return {"activities": got.activities, "open_surveys": got.open_surveys,
            "design_effect": got.pooled_deff, "wider": float(np.sqrt(got.pooled_deff))}


def _representation_raw(con: Store, dims: tuple[str, ...], min_age: int, **given: str) -> pd.DataFrame:
    if "community" in dims:
        return _community_representation(con, dims, min_age, **given)
    f = filters(**given)
    table, units = _groups(design_cells(con, min_age, **f), population_cells(con, min_age, f["locality"]), dims)
    table["population_share"] = table["population"] / table["population"].sum()
    table = _ratios(table, units, table["population_share"], threshold(con))
    table.insert(0, "group", _group_names(table, dims))
    return table


def _groups(cells: pd.DataFrame, pop: pd.DataFrame, dims: tuple[str, ...]) -> tuple[pd.DataFrame, design.Units]:
    """Residents and respondents per group of `dims`, and the activities that heard them. Only respondents in a
    group with residents count (every dimension known; sex 'X' has none), so shares of respondents are shares
    of those the population can be compared with."""
    table = _cell_table(cells, pop, dims, "population")
    cells = cells.merge(table[list(dims)], on=list(dims))
    return table, design.Units.from_cells(cells, cells, table, list(dims))


def _cell_table(resp: pd.DataFrame, base: pd.DataFrame, dims: tuple[str, ...], value: str) -> pd.DataFrame:
    """Base (population or need) and respondents with every dimension known, per group of `dims`."""
    heard = resp.dropna(subset=list(dims)).groupby(list(dims))["respondents"].sum()
    table = base.groupby(list(dims))[value].sum().to_frame().join(heard)
    return table.fillna({"respondents": 0}).reset_index()


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


def _community_representation(con: Store, dims: tuple[str, ...], min_age: int, **given: str) -> pd.DataFrame:
    if set(dims) - {"community", "locality"}:
        raise ReachInputError("communities combine only with locality ('locality+community')")
    f = filters(**given)
    if "locality" not in dims:
        table = _communities_in(con, f["locality"], min_age, f)
        table.insert(0, "group", table["community"])
        return table
    table = _communities_by_locality(con, min_age, f)
    table.insert(0, "group", table["locality"] + ", " + table["community"])
    return table


def _communities_by_locality(con: Store, min_age: int, f: dict[str, str]) -> pd.DataFrame:
    """`_communities_in` for every locality, from one pass over the responses grouped by home locality (one
    pass per locality took 2.6 s on a national-scale pack)."""
    anywhere = {**f, "locality": config.ALL_LOCALITIES}
    rows = con.query("community_respondents", min_age=min_age, **anywhere)
    cells = design_cells(con, min_age, **anywhere)
    residents = population_cells(con, min_age).groupby("locality")["population"].sum()
    return pd.concat([_communities_in(con, place, min_age, f, cells=cells[cells["locality"] == place],
                                      residents=residents[place], heard=rows[rows["locality"] == place])
                      for place in sorted(residents.index)], ignore_index=True)


def _community_groups(con: Store, place: str, min_age: int, f: dict[str, str], cells: pd.DataFrame | None = None,
                      heard: pd.DataFrame | None = None) -> tuple[pd.DataFrame, design.Units]:
    """Each community's estimate (or target) and respondents living in `place`, and the activities that heard
    them; `cells` (design_cells there) and `heard` (community_respondents rows there) when the caller has them."""
    scoped = {**f, "locality": place}
    if heard is None:
        heard = con.query("community_respondents", min_age=min_age, **scoped)
    cells = design_cells(con, min_age, **scoped) if cells is None else cells
    table = con.query("community_denominators", locality=place)
    table["respondents"] = table["community"].map(heard.groupby("community")["respondents"].sum()).fillna(0)
    return table, design.Units.from_cells(heard, cells, table, ["community"])


def _communities_in(con: Store, place: str, min_age: int, f: dict[str, str], cells: pd.DataFrame | None = None,
                    residents: float | None = None, heard: pd.DataFrame | None = None) -> pd.DataFrame:
    """Community representation among respondents living in `place` ('All' = anywhere); `cells` (design_cells
    of respondents there), `residents` and `heard` (community_respondents rows there), when the caller has
    them already. A community's population range gives its share's range."""
    if residents is None:
        residents = population_cells(con, min_age, place)["population"].sum()
    table, units = _community_groups(con, place, min_age, f, cells, heard)
    shares = {c: (table[c].astype(float) / residents).clip(upper=1)
              for c in ("population", "population_low", "population_high")}
    table["population_share"] = shares["population"]
    table = _ratios(table, units, table["population_share"], threshold(con),
                    (shares["population_low"], shares["population_high"]))
    return _against_targets(table).assign(locality=place)


def scores(con: Store, dimension: str = "age_band+sex", by: str | None = None, min_age: int = 15,
           **given: str) -> pd.DataFrame:
    """Representativeness for the whole engagement (by=None) or per method / partner. Columns: [by],
    respondents, proportional_similarity (Σ min of shares), minmax_ratio (lowest ÷ highest participation rate).
    Scores for fewer respondents than the threshold are withheld."""
    dims = _dims(dimension)
    f = filters(**given)
    resp = respondent_cells(con, min_age, **f).dropna(subset=list(dims))
    pop = population_cells(con, min_age, f["locality"]).groupby(list(dims))["population"].sum()
    groups = [("All", resp)] if by is None else list(resp.groupby(by))
    rows = []
    for key, part in groups:
        heard = part.groupby(list(dims))["respondents"].sum().reindex(pop.index, fill_value=0)
        empty = heard.sum() == 0  # no one heard: the scores are undefined, not zero
        rows.append({by or "scope": key, "respondents": heard.sum(),
                     "proportional_similarity": np.nan if empty else stats.proportional_similarity(
                         pop / pop.sum(), heard / heard.sum()),
                     "minmax_ratio": np.nan if empty else stats.participation_ratio_minmax(heard.to_numpy(),
                                                                                           pop.to_numpy())})
    table = pd.DataFrame(rows, columns=[by or "scope", "respondents", "proportional_similarity", "minmax_ratio"])
    return suppress(table, "respondents", threshold(con), ("proportional_similarity", "minmax_ratio"),
                    additive=(by,) if by else None)


def ledger_options(con: Store) -> dict[str, list[str]]:
    """{'method': [...], 'partner': [...], 'first_date': [d], 'last_date': [d]} for the filter widgets; with an
    empty ledger the dates are the pack's base year."""
    rows = con.query("ledger_options").dropna()
    options = {kind: list(part["value"]) for kind, part in rows.groupby("kind")}
    base = con.meta()["base_year"]
    return {"method": [], "partner": [], "first_date": [f"{base}-01-01"], "last_date": [f"{base}-12-31"],
            **options}


def coverage_by_locality(con: Store, **given: str) -> pd.DataFrame:
    """Columns: locality, residents, activities (held there, not counting partnership-wide ones), participants,
    respondents, per_1000 with per_1000_low/high (95%, design-based: the locality's share of respondents with a
    known home, clustered by activity, as a rate), design_effect and flag ('below', 'above' or 'within': the
    locality's share of respondents against its share of residents, flagged as representation flags are). The
    comparison is always with the whole partnership, so a locality's flag is the same with the filter on it."""
    f = filters(**given)
    anywhere = {**f, "locality": "All"}
    table, units = _groups(design_cells(con, 0, **anywhere), population_cells(con, 0), ("locality",))
    acts = con.query("activities_filtered", **anywhere)
    acts = acts[acts["locality"] != config.ALL_LOCALITIES].groupby("locality")
    table = table.rename(columns={"population": "residents"}).assign(
        activities=table["locality"].map(acts.size()).fillna(0),
        participants=table["locality"].map(acts["participants"].sum()).fillna(0))
    table = table[["locality", "residents", "activities", "participants", "respondents"]]
    rated = _ratios(table, units, table["residents"] / table["residents"].sum(), threshold(con))
    # share → respondents per 1,000 residents: p·N/residents; the interval's ratio × share gives its p.
    table = rated.assign(per_1000=1000 * rated["respondent_share"] * units.n / rated["residents"],
                         per_1000_low=1000 * rated["ratio_low"] * units.n / rated["residents"].sum(),
                         per_1000_high=1000 * rated["ratio_high"] * units.n / rated["residents"].sum())
    limit = threshold(con)
    table = suppress(table, "respondents", limit, ("per_1000", "per_1000_low", "per_1000_high", *DERIVED),
                     additive=("locality",))
    table = _finish(table, limit, flag_band(con))  # the whole partnership is the family, filter or not
    table["flag"] = table["flag"].replace({"under": "below", "over": "above", "in line": "within"})
    if f["locality"] != "All":
        table = table[table["locality"] == f["locality"]]
    table = table.drop(columns=["respondent_share", "ratio", "ratio_low", "ratio_high"])
    return suppress_also(table, "participants", limit, additive=("locality",))


def overall_rate(con: Store, **given: str) -> float:
    """Respondents with a known home per 1,000 residents, for the whole area the filters cover (a reference
    line; withheld as NaN when the count is under the threshold)."""
    f = filters(**given)
    heard = respondent_cells(con, 0, **f).dropna(subset=["locality"])["respondents"].sum()
    residents = population_cells(con, 0, f["locality"])["population"].sum()
    return 1000 * heard / residents if heard >= threshold(con) else float("nan")


def coverage_by_neighbourhood(con: Store, **given: str) -> pd.DataFrame:
    """Columns: neighbourhood_code, neighbourhood_name, locality, residents, respondents, per_1000 with
    per_1000_low/high (95%, design-based as for localities: the neighbourhood's share of respondents with a known
    home, clustered by activity, as a rate), withheld. Suppression keeps each locality's total from giving a
    withheld neighbourhood away."""
    f = filters(**given)
    cells = con.query("neighbourhood_cells", surveys=list(config.SURVEY_METHODS), **f)
    table = con.query("neighbourhoods")
    table["respondents"] = table["neighbourhood_code"].map(cells.groupby("neighbourhood_code")["respondents"].sum())
    table["respondents"] = table["respondents"].fillna(0)
    units = design.Units.from_cells(cells, cells, table, ["neighbourhood_code"])
    got = design.share_design(units)
    low, high = design.share_interval(table["respondents"].to_numpy(float), units.n, got.deff, got.df)
    scale = 1000 * units.n / table["residents"]  # a share of the respondents → respondents per 1,000 residents
    table["per_1000"] = 1000 * table["respondents"] / table["residents"]
    table["per_1000_low"], table["per_1000_high"] = low * scale, high * scale
    if f["locality"] != "All":
        table = table[table["locality"] == f["locality"]]
    return suppress(table, "respondents", threshold(con), ("per_1000", "per_1000_low", "per_1000_high"),
                    additive=("neighbourhood_code",), totals=(("locality",),))


def method_mix(con: Store, **given: str) -> pd.DataFrame:
    """Columns: method, activities, participants, respondents (withheld under the threshold)."""
    f = filters(**given)
    acts = con.query("activities_filtered", **f).groupby("method")
    resp = respondent_cells(con, 0, **f).groupby("method")["respondents"].sum()
    table = pd.DataFrame({"activities": acts.size(), "participants": acts["participants"].sum(),
                          "respondents": resp}).fillna(0).rename_axis("method").reset_index()
    table = suppress(table, "respondents", threshold(con), additive=("method",))
    return suppress_also(table, "participants", threshold(con), additive=("method",))


def timeline(con: Store, **given: str) -> pd.DataFrame:
    """Activities starting each month by method. Columns: month (first day), method, activities, participants
    (withheld under the threshold, and secondarily so that the method totals give none away)."""
    acts = con.query("activities_filtered", **filters(**given))
    acts["month"] = pd.to_datetime(acts["start_date"]).dt.to_period("M").dt.to_timestamp()
    table = acts.groupby(["month", "method"], as_index=False).agg(activities=("activity_id", "size"),
                                                                  participants=("participants", "sum"))
    return suppress_also(table, "participants", threshold(con), additive=("month", "method"))


# Groups the hard-to-reach finder ranks, besides communities: (kind, dimensions).
GAP_GROUPS = (("Locality", ("locality",)), ("Deprivation quintile", ("quintile",)),
              ("Age and sex", ("age_group", "sex")), ("Locality, age and sex", ("locality", "age_group", "sex")))


def hard_to_reach(con: Store, need: str = "all", need_weight: float = 0.5, min_age: int = 15,
                  **given: str) -> pd.DataFrame:
    """Every locality, quintile, age-sex cell, locality × age × sex cell and community, ranked by need-weighted
    shortfall: expected = respondents × the group's expected share − respondents heard, where the expected
    share is (1 − need_weight) × population share + need_weight × share of projected need (indicator `need`,
    or 'all' summed). Communities use their population share, or their target_min where they have no estimate.
    Columns: kind, group, respondents, expected, shortfall, shortfall_low, shortfall_high (95%), ratio,
    ratio_low, ratio_high, flag, vs_residents (the flag against the population share alone), best_methods,
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
    parts = [_gap_cells(cells, pop, need_cells, dims, need_weight, context, limit, gaps).assign(kind=kind)
             for kind, dims in GAP_GROUPS if not (f["locality"] != "All" and dims == ("locality",))]
    parts.append(_gap_communities(con, min_age, f, cells, context, limit, gaps))
    table = pd.concat(parts, ignore_index=True)
    table["rank_value"] = table["shortfall"].fillna(table["expected"] - limit)
    columns = ["kind", "group", "respondents", "expected", "shortfall", "shortfall_low", "shortfall_high", "ratio",
               "ratio_low", "ratio_high", "flag", "vs_residents", "best_methods", "best_partners", "withheld",
               "rank_value"]
    return table.sort_values("rank_value", ascending=False, ignore_index=True)[columns]


def under_reached(gaps: pd.DataFrame) -> pd.DataFrame:
    """The rows of hard_to_reach under-reached relative to their population and their need: short against the
    need-weighted share (or under a target), and not heard more than their share of residents (older people,
    whose need share is large, can be short of it while heard more than in proportion to how many they are)."""
    return gaps[gaps["flag"].isin(["under", "under target"]) & (gaps["vs_residents"] != "over")]


def _gap_cells(cells: pd.DataFrame, pop: pd.DataFrame, need_cells: pd.DataFrame, dims: tuple[str, ...],
               weight: float, context: pd.DataFrame, limit: int, gaps: tuple[float, float]) -> pd.DataFrame:
    table, units = _groups(cells, pop, dims)
    table = table.merge(need_cells.groupby(list(dims))["need"].sum().reset_index(), on=list(dims),
                        how="left").fillna({"need": 0})  # a left merge keeps the rows in the order of `units`
    pop_share = table["population"] / table["population"].sum()
    need_share = table["need"] / table["need"].sum() if table["need"].sum() > 0 else pop_share
    share = (1 - weight) * pop_share + weight * need_share
    residents = _ratios(table, units, pop_share, limit)  # against the residents alone: vs_residents
    table = _shortfall(_ratios(table, units, share, limit), units.n * share)
    table["vs_residents"] = residents["flag"]
    for column in _HIDDEN[1:]:
        table[f"{column}_res"] = residents[column]
    table["group"] = _group_names(table, dims)
    table["best_methods"], table["best_partners"] = (_best(context, dims, table, share, by, limit)
                                                     for by in ("method", "partner"))
    table = suppress(table, "respondents", limit, SHORTFALL, additive=dims)
    table = _decide(table, limit, gaps, out="vs_residents", suffix="_res")
    return _finish(table, limit, gaps).drop(columns=[f"{c}_res" for c in _HIDDEN[1:]])


def _shortfall(table: pd.DataFrame, expected: pd.Series) -> pd.DataFrame:
    # The count's interval is the ratio's interval times the expected count, whichever way the ratio was made.
    table["expected"] = expected
    table["shortfall"] = expected - table["respondents"]
    table["shortfall_low"] = expected * (1 - table["ratio_high"])
    table["shortfall_high"] = expected * (1 - table["ratio_low"])
    return table


def _best(context: pd.DataFrame, dims: tuple[str, ...], table: pd.DataFrame, share: pd.Series, by: str,
          limit: int) -> list[str]:
    """For each group, the two methods (or partners) whose respondents over-represent it most, counting only
    those that heard at least `limit` people from it."""
    totals = context.groupby(by)["respondents"].sum()
    heard = context.dropna(subset=list(dims)).groupby([*dims, by])["respondents"].sum().reset_index()
    keyed = table[list(dims)].assign(share=share.to_numpy())
    heard = heard.merge(keyed, on=list(dims))
    heard["ratio"] = heard["respondents"] / heard[by].map(totals).astype(float) / heard["share"]
    best = _top_two(heard[heard["respondents"] >= limit], list(dims), by, "ratio", "{:.1f}×")
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
                     limit: int, gaps: tuple[float, float]) -> pd.DataFrame:
    table = _communities_in(con, f["locality"], min_age, f, cells=cells)
    expected = (cells["respondents"].sum() * table["population_share"]).fillna(table["target_min"].astype(float))
    table = _shortfall(table, expected)
    table["group"], table["kind"] = table["community"], "Community"
    heard = con.query("community_respondents", min_age=min_age, **{**FILTERS, "date_from": f["date_from"],
                                                                   "date_to": f["date_to"]})
    for by in ("method", "partner"):
        totals = context.groupby(by)["respondents"].sum()
        rows = heard.groupby(["community", by], as_index=False)["respondents"].sum()
        rows = rows[rows["respondents"] >= limit]
        rows["rate"] = 100 * rows["respondents"] / rows[by].map(totals).astype(float)
        best = _top_two(rows, ["community"], by, "rate", "{:.1f}% of its respondents")
        table[f"best_{by}s"] = [best.get((c,), "") for c in table["community"]]
    table = table[table["flag"] != "no denominator"]
    table = _finish(suppress(table, "respondents", limit, SHORTFALL), limit, gaps)
    return table.assign(vs_residents=table["flag"])  # a community has no need share: its flag is against residents
