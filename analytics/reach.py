"""Who engagement has heard, joined to who lives there and who needs care.

Filters (all optional, the same everywhere): date_from, date_to ('YYYY-MM-DD'), method, partner and locality
('All' = any). `locality` is where respondents live. Representation compares residents aged `min_age`+
(default 15: five-year bands cannot split at 16) with respondents of those ages (or of unknown age).
Every function returns counts already passed through disclosure control.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import config, stats
from analytics.db import Store
from analytics.disclosure import WITHHELD, suppress, suppress_also

FILTERS = {"date_from": "0001-01-01", "date_to": "9999-12-31", "method": "All", "partner": "All",
           "locality": "All"}
DIMENSIONS = ("locality", "quintile", "sex", "age_band", "age_group", "community")
AGE_GROUPS = {"15-34": (15, 34), "35-64": (35, 64), "65-84": (65, 84), "85+": (85, 200)}
DERIVED = ("respondent_share", "ratio", "ratio_low", "ratio_high")


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


def _ratios(table: pd.DataFrame, n: float, share: pd.Series) -> pd.DataFrame:
    """Shares, the representation ratio with its Wilson-based interval, and the flag."""
    table = table.copy()
    table["respondent_share"] = table["respondents"] / n if n else np.nan
    low, high = stats.wilson_interval(table["respondents"].to_numpy(), np.full(len(table), max(n, 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        table["ratio"] = table["respondent_share"] / share
        table["ratio_low"], table["ratio_high"] = low / share, high / share
    table["flag"] = np.select([share.isna() | (share <= 0), table["ratio_high"] < 1, table["ratio_low"] > 1],
                              ["no denominator", "under", "over"], "in line")
    table["_n"], table["_share"] = n, share.to_numpy()  # for _withhold_flags, which drops them
    return table


def _withhold_flags(table: pd.DataFrame, limit: int) -> pd.DataFrame:
    """A withheld group's flag would bound its count ('over' says at least so many were heard), so it shows the
    flag its count would have at most (limit − 1): 'under' when even that lies wholly below 1, which withholding
    says already, else 'withheld'. Groups measured against a target use the target's Poisson interval."""
    table = table.copy()
    hidden = table["withheld"].to_numpy(bool) & (table["flag"] != "no denominator").to_numpy()
    if hidden.any():
        most = np.full(int(hidden.sum()), float(max(limit - 1, 0)))
        rows = table.loc[hidden]
        _, high = stats.wilson_interval(most, np.maximum(rows["_n"].to_numpy(float), np.maximum(most, 1)))
        with np.errstate(divide="ignore", invalid="ignore"):
            high = high / rows["_share"].to_numpy(float)
        target = rows["target_min"].astype(float).to_numpy() if "target_min" in rows else np.full(len(rows), np.nan)
        by_target = rows["population"].isna().to_numpy() & (target > 0)
        if by_target.any():
            high[by_target] = stats.rate_interval(most[by_target], target[by_target])[1]
        table.loc[hidden, "flag"] = np.where(high < 1, "under", WITHHELD)
        if "vs_residents" in table:
            table.loc[hidden, "vs_residents"] = WITHHELD
    return table.drop(columns=["_n", "_share"])


def representation(con: Store, dimension: str | tuple[str, ...], min_age: int = 15, **given: str) -> pd.DataFrame:
    """One row per group. Columns: group, <dimension columns>, respondents, population, respondent_share,
    population_share, ratio, ratio_low, ratio_high, flag (under / over / in line / no denominator), withheld.
    Communities without a population estimate are measured against their target_min (population_share blank,
    ratio = respondents ÷ target with a Poisson interval)."""
    dims, limit = _dims(dimension), threshold(con)
    table = _representation_raw(con, dims, min_age, **given)
    if "community" not in dims:
        return _withhold_flags(suppress(table, "respondents", limit, DERIVED, additive=dims), limit)
    # People belong to several communities, so communities do not add up; but within one community the
    # localities add up to (at most) the community's total shown beside them, so each community is a line.
    others = tuple(d for d in dims if d != "community")
    return _withhold_flags(suppress(table, "respondents", limit, DERIVED, additive=() if others else None,
                                    totals=(("community",),) if others else ()), limit)


def _representation_raw(con: Store, dims: tuple[str, ...], min_age: int, **given: str) -> pd.DataFrame:
    if "community" in dims:
        return _community_representation(con, dims, min_age, **given)
    f = filters(**given)
    resp = respondent_cells(con, min_age, **f)
    table = _cell_table(resp, population_cells(con, min_age, f["locality"]), dims, "population")
    table["population_share"] = table["population"] / table["population"].sum()
    table = _ratios(table, table["respondents"].sum(), table["population_share"])
    table.insert(0, "group", _group_names(table, dims))
    return table


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
    heard = {place: part.groupby("community")["respondents"].sum() for place, part in rows.groupby("locality")}
    n = respondent_cells(con, min_age, **anywhere).groupby("locality")["respondents"].sum()
    residents = population_cells(con, min_age).groupby("locality")["population"].sum()
    none = pd.Series(dtype="int64", index=pd.Index([], name="community"))
    return pd.concat([_communities_in(con, place, min_age, f, n=n.get(place, 0), residents=residents[place],
                                      heard=heard.get(place, none)) for place in sorted(residents.index)],
                     ignore_index=True)


def _communities_in(con: Store, place: str, min_age: int, f: dict[str, str], n: float | None = None,
                    residents: float | None = None, heard: pd.Series | None = None) -> pd.DataFrame:
    """Community representation among respondents living in `place` ('All' = anywhere); `n` (respondents
    there), `residents` and `heard` (respondents by community), when the caller has them already."""
    scoped = {**f, "locality": place}
    if heard is None:
        heard = con.query("community_respondents", min_age=min_age, **scoped).groupby("community")["respondents"].sum()
    n = respondent_cells(con, min_age, **scoped)["respondents"].sum() if n is None else n
    if residents is None:
        residents = population_cells(con, min_age, place)["population"].sum()
    table = con.query("community_denominators", locality=place).set_index("community")
    table["respondents"] = heard.reindex(table.index).fillna(0)
    table["population_share"] = (table["population"].astype(float) / residents).clip(upper=1)
    table = _ratios(table.reset_index(), n, table["population_share"].reset_index(drop=True))
    return _against_targets(table).assign(locality=place)


def _against_targets(table: pd.DataFrame) -> pd.DataFrame:
    """Groups with no reliable denominator: respondents ÷ target_min, interval from the Poisson count."""
    target = table["target_min"].astype(float)
    use = table["population"].isna() & target.gt(0)
    if use.any():
        low, high = stats.rate_interval(table.loc[use, "respondents"].to_numpy(), target[use].to_numpy())
        table.loc[use, "ratio"] = table.loc[use, "respondents"] / target[use]
        table.loc[use, "ratio_low"], table.loc[use, "ratio_high"] = low, high
        table.loc[use, "flag"] = np.select([high < 1, low > 1], ["under", "over"], "in line")
    return table


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
    respondents, per_1000 with per_1000_low/high (95%, Byar/exact), control_low/high (the partnership rate's
    99.8% funnel limits at this population, per 1,000) and flag ('below', 'above' or 'within' the limits)."""
    f = filters(**given)
    resp = respondent_cells(con, 0, **f).groupby("locality")["respondents"].sum()
    residents = population_cells(con, 0).groupby("locality")["population"].sum()
    acts = con.query("activities_filtered", **f)
    acts = acts[acts["locality"] != config.ALL_LOCALITIES].groupby("locality")
    table = pd.DataFrame({"residents": residents, "activities": acts.size(), "participants": acts["participants"].sum(),
                          "respondents": resp}).fillna(0).rename_axis("locality").reset_index()
    table = _rates(table, "respondents", "residents")
    rate = table["respondents"].sum() / table["residents"].sum()
    expected = rate * table["residents"]
    low, high = stats.funnel_limits(expected.to_numpy(), 0.998)
    table["control_low"], table["control_high"] = 1000 * low / table["residents"], 1000 * high / table["residents"]
    table["flag"] = np.select([table["per_1000"] < table["control_low"], table["per_1000"] > table["control_high"]],
                              ["below", "above"], "within")
    if f["locality"] != "All":
        table = table[table["locality"] == f["locality"]]
    table = suppress(table, "respondents", threshold(con), ("per_1000", "per_1000_low", "per_1000_high"),
                     additive=("locality",))
    return suppress_also(table, "participants", threshold(con), additive=("locality",))


def overall_rate(con: Store, **given: str) -> float:
    """Respondents with a known home per 1,000 residents, for the whole area the filters cover (a reference
    line; withheld as NaN when the count is under the threshold)."""
    f = filters(**given)
    heard = respondent_cells(con, 0, **f).dropna(subset=["locality"])["respondents"].sum()
    residents = population_cells(con, 0, f["locality"])["population"].sum()
    return 1000 * heard / residents if heard >= threshold(con) else float("nan")


def _rates(table: pd.DataFrame, count: str, denominator: str) -> pd.DataFrame:
    table = table.copy()
    table["per_1000"] = 1000 * table[count] / table[denominator]
    table["per_1000_low"], table["per_1000_high"] = stats.rate_interval(
        table[count].to_numpy(), table[denominator].to_numpy(), multiplier=1000)
    return table


def coverage_by_neighbourhood(con: Store, **given: str) -> pd.DataFrame:
    """Columns: neighbourhood_code, neighbourhood_name, locality, residents, respondents, per_1000 (+ interval),
    withheld. Suppression keeps each locality's total from giving a withheld neighbourhood away."""
    f = filters(**given)
    resp = respondent_cells(con, 0, **f).groupby("neighbourhood_code")["respondents"].sum()
    table = con.query("neighbourhoods")
    table["respondents"] = table["neighbourhood_code"].map(resp).fillna(0)
    table = _rates(table, "respondents", "residents")
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
    resp = respondent_cells(con, min_age, **f)
    pop = population_cells(con, min_age, f["locality"])
    need_cells = _with_age_group(con.query("need_cells", indicator=need), min_age)
    if f["locality"] != "All":
        need_cells = need_cells[need_cells["locality"] == f["locality"]]
    # What reached each group elsewhere looks at every method, partner and locality in the period: with none of
    # them chosen that is `resp` itself (at national scale each reading of the respondents costs ~0.5 s).
    only_dates = all(f[k] == FILTERS[k] for k in f if k not in ("date_from", "date_to"))
    context = resp if only_dates else respondent_cells(con, min_age, date_from=f["date_from"], date_to=f["date_to"])
    limit = threshold(con)
    parts = [_gap_cells(resp, pop, need_cells, dims, need_weight, context, limit).assign(kind=kind)
             for kind, dims in GAP_GROUPS if not (f["locality"] != "All" and dims == ("locality",))]
    parts.append(_gap_communities(con, min_age, f, context, limit, resp["respondents"].sum()))
    table = pd.concat(parts, ignore_index=True)
    table["rank_value"] = table["shortfall"].fillna(table["expected"] - limit)
    columns = ["kind", "group", "respondents", "expected", "shortfall", "shortfall_low", "shortfall_high", "ratio",
               "ratio_low", "ratio_high", "flag", "vs_residents", "best_methods", "best_partners", "withheld",
               "rank_value"]
    return table.sort_values("rank_value", ascending=False, ignore_index=True)[columns]


def under_reached(gaps: pd.DataFrame) -> pd.DataFrame:
    """The rows of hard_to_reach under-reached relative to their population and their need: short against the
    need-weighted share, and not heard more than their share of residents (older people, whose need share is
    large, can be short of it while heard more than in proportion to how many they are)."""
    return gaps[(gaps["flag"] == "under") & (gaps["vs_residents"] != "over")]


def _gap_cells(resp: pd.DataFrame, pop: pd.DataFrame, need_cells: pd.DataFrame, dims: tuple[str, ...],
               weight: float, context: pd.DataFrame, limit: int) -> pd.DataFrame:
    table = _cell_table(resp, pop, dims, "population").merge(
        need_cells.groupby(list(dims))["need"].sum().reset_index(), on=list(dims), how="left").fillna({"need": 0})
    pop_share = table["population"] / table["population"].sum()
    need_share = table["need"] / table["need"].sum() if table["need"].sum() > 0 else pop_share
    share = (1 - weight) * pop_share + weight * need_share
    n = table["respondents"].sum()
    vs_residents = _ratios(table, n, pop_share)["flag"]
    table = _shortfall(_ratios(table, n, share), n * share).assign(vs_residents=vs_residents)
    table["group"] = _group_names(table, dims)
    table["best_methods"], table["best_partners"] = (_best(context, dims, table, share, by, limit)
                                                     for by in ("method", "partner"))
    return _withhold_flags(suppress(table, "respondents", limit, DERIVED + ("shortfall", "shortfall_low",
                                                                           "shortfall_high"), additive=dims), limit)


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


def _gap_communities(con: Store, min_age: int, f: dict[str, str], context: pd.DataFrame, limit: int,
                     n: float) -> pd.DataFrame:
    table = _communities_in(con, f["locality"], min_age, f, n)
    expected = (n * table["population_share"]).fillna(table["target_min"].astype(float))
    table = _shortfall(table, expected)
    table["group"], table["kind"] = table["community"], "Community"
    heard = con.query("community_respondents", min_age=min_age, **{**FILTERS, "date_from": f["date_from"],
                                                                   "date_to": f["date_to"]})
    for by in ("method", "partner"):
        totals = context.groupby(by)["respondents"].sum()
        cells = heard.groupby(["community", by], as_index=False)["respondents"].sum()
        cells = cells[cells["respondents"] >= limit]
        cells["rate"] = 100 * cells["respondents"] / cells[by].map(totals).astype(float)
        best = _top_two(cells, ["community"], by, "rate", "{:.1f}% of its respondents")
        table[f"best_{by}s"] = [best.get((c,), "") for c in table["community"]]
    table = table[table["flag"] != "no denominator"].assign(vs_residents=lambda t: t["flag"])  # no need share
    return _withhold_flags(suppress(table, "respondents", limit, DERIVED + ("shortfall", "shortfall_low",
                                                                           "shortfall_high")), limit)
