"""Citizens Panel: quotas for a panel representative of residents aged 15+, with priority areas over-sampled;
recruitment against those quotas; and stratified random selection from a pool of volunteers.

A stratum is one combination of the chosen dimensions (locality, age_group or age_band, sex, quintile). When
priority areas are over-sampled, every stratum is also split by `priority_area` (True inside a priority area),
because the extra members have to be recruited there. Quotas and populations are design, not personal data;
counts of people (recruited members, volunteers, selected members) pass disclosure control before they leave.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from analytics import reach, stats
from analytics.db import Store
from analytics.disclosure import UNPROTECTED, protect, withhold
from analytics.schema import AGE, SEX, C, FileSpec, Problem, read_csv, reference_problems

MIN_AGE = 15  # five-year bands cannot split at 16, so the base is residents aged 15+ (as on the reach pages)
STRATA = ("locality", "age_group", "age_band", "sex", "quintile")
DEFAULT_STRATA = ("locality", "age_group", "sex")
DEFAULT_PRIORITY = ("quintile:1",)
POOL_SPEC = FileSpec("volunteers.csv", (C("member_id", "code"), C("area_code", "code"), SEX, AGE),
                     key=("member_id",))
SEX_WORDS = {"F": "women", "M": "men"}
SIZES = tuple(range(100, 5001, 50))  # panel sizes offered by the page
OVERSAMPLE = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)  # over-sampling factors offered by the page


class PanelInputError(ValueError):
    """A panel design or volunteer list the panel functions cannot use; the message says what to change."""


class PoolInvalid(PanelInputError):
    """The uploaded volunteer list breaks its format; `problems` lists every problem, row by row."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the volunteer list; no one was selected:\n{lines}")


# ------------------------------------------------------------------------------------------------ allocation

def largest_remainder(weights: Sequence[float], total: int) -> np.ndarray:
    """Whole numbers adding up to `total`, in proportion to `weights`: each row gets the floor of its exact
    share, then the rows with the largest remainders get one more (Hamilton's method). Ties go to the earlier
    row, so the result never depends on chance."""
    w = np.asarray(weights, dtype=float)
    if total < 0 or w.size == 0 or np.any(w < 0) or w.sum() <= 0:
        raise PanelInputError("allocation needs a total of 0 or more and weights of 0 or more with a positive sum")
    exact = np.round(w * total / w.sum(), 9)  # rounding first keeps 59.9999999 from losing its place to 0.5
    whole = np.floor(exact).astype(int)
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[:total - whole.sum()]] += 1
    return whole


def allocate(strata: pd.DataFrame, size: int, oversample: float = 1.0) -> pd.DataFrame:
    """Quotas for strata given as rows with `population` and (optionally) `priority_area`: proportional
    allocation with priority strata weighted by `oversample`, rounded by largest remainder to add up to `size`.
    Adds: population_share, quota, panel_share, design_weight (population share ÷ panel share, mean 1 over
    the panel: weighting members by it gives back the population shares) and residents_per_member. A stratum
    rounded to no members has no design weight (NaN): it cannot be represented at this panel size."""
    if int(size) != size or size < 1:
        raise PanelInputError(f"the panel size must be a whole number of 1 or more; got {size!r}")
    if not oversample >= 1:
        raise PanelInputError(f"the over-sampling factor must be 1 (none) or more; got {oversample!r}")
    if size > strata["population"].sum():
        raise PanelInputError(f"a panel of {size:,} is larger than the {strata['population'].sum():,.0f} residents "
                              "it would represent; choose a smaller panel")
    out = strata.copy()
    priority = out["priority_area"].to_numpy(bool) if "priority_area" in out else np.zeros(len(out), bool)
    out["population_share"] = out["population"] / out["population"].sum()
    out["quota"] = largest_remainder(out["population"] * np.where(priority, oversample, 1.0), int(size))
    out["panel_share"] = out["quota"] / size
    has = out["quota"] > 0
    out["design_weight"] = (out["population_share"] / out["panel_share"]).where(has)
    out["residents_per_member"] = (out["population"] / out["quota"]).where(has)
    return out


def design_effects(quotas: pd.DataFrame) -> dict[str, float]:
    """The cost of the design: members, strata, empty_strata (quota 0), effective_n (Kish) and design_effect of
    the design weights, weight_min, weight_max, and (when over-sampling) priority_population_share and
    priority_panel_share."""
    have = quotas[quotas["quota"] > 0]
    weights = np.repeat(have["design_weight"].to_numpy(float), have["quota"].to_numpy(int))
    out = {"members": float(have["quota"].sum()), "strata": float(len(quotas)),
           "empty_strata": float((quotas["quota"] == 0).sum()), "effective_n": stats.kish_effective_n(weights),
           "design_effect": stats.design_effect(weights), "weight_min": float(weights.min()),
           "weight_max": float(weights.max())}
    if "priority_area" in quotas:
        inside = quotas["priority_area"].astype(bool)
        out["priority_population_share"] = float(quotas.loc[inside, "population_share"].sum())
        out["priority_panel_share"] = float(quotas.loc[inside, "panel_share"].sum())
    return out


# ---------------------------------------------------------------------------------------------- the design

def priority_options(con: Store) -> dict[str, str]:
    """{token: label} for choosing priority areas: 'quintile:1' … 'quintile:5', then 'locality:<name>'."""
    areas = con.query("panel_areas")
    quintiles = {f"quintile:{q}": f"Quintile {q}" + (" (most deprived)" if q == 1 else "")
                 for q in sorted(areas["quintile"].dropna().astype(int).unique())}
    return {**quintiles, **{f"locality:{name}": name for name in sorted(areas["locality"].unique())}}


def _priority(tokens: Sequence[str]) -> tuple[set[int], set[str]]:
    quintiles, localities = set(), set()
    for token in tokens:
        kind, _, value = str(token).partition(":")
        if kind == "quintile" and value.isdigit():
            quintiles.add(int(value))
        elif kind == "locality" and value:
            localities.add(value)
        else:
            raise PanelInputError(f"priority area {token!r} is not understood; use 'quintile:1' or 'locality:<name>'")
    return quintiles, localities


def _keys(strata: Sequence[str], oversample: float, priority: Sequence[str]) -> list[str]:
    """The columns that define a stratum: the chosen dimensions, plus priority_area when over-sampling."""
    bad = [s for s in strata if s not in STRATA]
    if bad:
        raise PanelInputError(f"unknown stratum {bad[0]!r}; choose from {', '.join(STRATA)}")
    if {"age_group", "age_band"} <= set(strata):
        raise PanelInputError("choose age group or five-year age band as a stratum, not both")
    keys = list(dict.fromkeys(strata))
    if oversample != 1 and priority:
        keys.append("priority_area")
    if not keys:
        raise PanelInputError("choose at least one stratum (locality, age, sex or deprivation quintile)")
    return keys


def _mark_priority(frame: pd.DataFrame, priority: Sequence[str]) -> pd.DataFrame:
    quintiles, localities = _priority(priority)
    return frame.assign(priority_area=frame["quintile"].isin(quintiles) | frame["locality"].isin(localities))


def _labels(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """'Eastfield, aged 15-34, women, quintile 1, priority area' — one readable name per stratum."""
    def name(row: pd.Series) -> str:
        parts = [str(row["locality"])] if "locality" in keys else []
        parts += [f"aged {row[k]}" for k in ("age_group", "age_band") if k in keys]
        parts += [SEX_WORDS.get(row["sex"], str(row["sex"]))] if "sex" in keys else []
        parts += [f"quintile {int(row['quintile'])}"] if "quintile" in keys else []
        parts += ["priority area" if row["priority_area"] else "other areas"] if "priority_area" in keys else []
        return ", ".join(parts)
    return frame.apply(name, axis=1) if len(frame) else pd.Series(dtype=str)


def strata_from(locality: bool = True, age: str = "age_group", sex: bool = True, quintile: bool = False) -> tuple[str, ...]:
    """The strata tuple from the page's four choices; `age` is 'age_group', 'age_band' or 'none'."""
    chosen = (("locality", locality), (age, age in ("age_group", "age_band")), ("sex", sex), ("quintile", quintile))
    return tuple(name for name, on in chosen if on)


def quotas(con: Store, size: int = 1000, strata: Sequence[str] = DEFAULT_STRATA, oversample: float = 1.0,
           priority: Sequence[str] = DEFAULT_PRIORITY) -> pd.DataFrame:
    """The quota sheet, one row per stratum of residents aged 15+. Columns: stratum (a readable name), <strata>,
    [priority_area], population, population_share, quota, panel_share, design_weight, residents_per_member."""
    keys = _keys(strata, oversample, priority)
    cells = _mark_priority(reach.population_cells(con, min_age=MIN_AGE), priority)
    table = cells.groupby(keys, as_index=False)["population"].sum()
    table = allocate(table[table["population"] > 0].reset_index(drop=True), size, oversample)
    table.insert(0, "stratum", _labels(table, keys))
    return table


def design(con: Store, size: int = 1000, strata: Sequence[str] = DEFAULT_STRATA, oversample: float = 1.0,
           priority: Sequence[str] = DEFAULT_PRIORITY) -> dict[str, float]:
    """design_effects of the quota sheet for these choices."""
    return design_effects(quotas(con, size, strata, oversample, priority))


def shares_by_dimension(table: pd.DataFrame) -> pd.DataFrame:
    """Residents' and panel shares (%) along each dimension of a quota sheet, so an over-sample shows.
    Columns: dimension, category, label ('Locality: Eastfield'), population_share, panel_share."""
    names = {"locality": "Locality", "age_group": "Age", "age_band": "Age", "sex": "Sex", "quintile": "Quintile",
             "priority_area": "Priority area"}
    parts = []
    for key in [k for k in names if k in table.columns]:
        part = table.groupby(key, as_index=False)[["population_share", "panel_share"]].sum()
        words = part[key].map({True: "yes", False: "no", **{k: v.capitalize() for k, v in SEX_WORDS.items()}})
        part["label"] = names[key] + ": " + words.fillna(part[key].astype(str))
        # As text: one column holds localities, age groups, quintiles and yes/no alike.
        parts.append(part.rename(columns={key: "category"}).assign(dimension=names[key], category=words.fillna(
            part[key].astype(str))))
    out = pd.concat(parts, ignore_index=True)
    out[["population_share", "panel_share"]] *= 100
    return out[["dimension", "category", "label", "population_share", "panel_share"]]


def describe_design(effects: dict[str, float]) -> str:
    """One plain-English sentence on what the over-sample costs."""
    text = (f"A panel of {effects['members']:,.0f} weighted back to the population is worth "
            f"{effects['effective_n']:,.0f} members chosen at random (design effect {effects['design_effect']:.2f}")
    text += f"; design weights run from {effects['weight_min']:.2f} to {effects['weight_max']:.2f})."
    if "priority_panel_share" in effects:
        text += (f" Priority areas hold {100 * effects['priority_population_share']:.1f}% of residents aged 15+ and "
                 f"would be {100 * effects['priority_panel_share']:.1f}% of the panel.")
    if effects["empty_strata"]:
        text += (f" {effects['empty_strata']:.0f} strata are too small to get a member at this size; merge strata "
                 "or enlarge the panel.")
    return text


# ------------------------------------------------------------------------------------- members and volunteers

def read_pool(con: Store, data: bytes) -> pd.DataFrame:
    """An uploaded volunteer list (CSV with member_id, area_code, sex, age_band) checked like a pack file.
    Columns: member_id, area_code, sex, age_band. Raises PoolInvalid listing every problem with its row."""
    with tempfile.TemporaryDirectory() as folder:  # the pack's reader works on files: reuse it, checks and all
        path = Path(folder) / POOL_SPEC.name
        path.write_bytes(data)
        frame, problems = read_csv(path, POOL_SPEC)
    if frame is not None:
        problems += reference_problems(POOL_SPEC.name, frame, "area_code", set(con.query("panel_areas")["area_code"]),
                                       "area_code of this partnership")
        if frame.empty:
            problems.append(Problem(POOL_SPEC.name, "has a header row but no volunteers"))
    if problems:
        raise PoolInvalid(problems)
    return frame[[c.name for c in POOL_SPEC.columns]].apply(lambda s: s.str.strip())


def pool(con: Store, pool_csv: bytes | None = None) -> pd.DataFrame:
    """Volunteers: the uploaded list, or (None) the stand-in pool of respondents with a known home, sex and age.
    Columns: member_id, area_code, sex, age_band."""
    return con.query("panel_standin_pool") if pool_csv is None else read_pool(con, pool_csv)


def _placed(con: Store, members: pd.DataFrame, keys: list[str], priority: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """Members with their stratum name (and record key, when given), and how many fall outside the base (aged
    under 15)."""
    frame = members.merge(con.query("panel_areas"), on="area_code", how="left")
    frame = reach._with_age_group(frame, MIN_AGE)  # reach's own grouping, so the groups match its tables
    outside = len(members) - len(frame)
    frame = _mark_priority(frame, priority)
    frame["stratum"] = _labels(frame, keys)
    return frame[["member_id", "stratum", *(["rkey"] if "rkey" in frame else [])]], outside


def _status(short: pd.Series, quota: pd.Series, withheld: pd.Series, limit: int) -> pd.Series:
    """'short', 'met' or 'withheld'. A withheld stratum is called short only when its quota is at least the
    threshold: a count withheld as small is then short anyway, so the word tells nothing about it."""
    short, withheld = short.to_numpy(bool), withheld.to_numpy(bool)
    known_short = short & (quota.to_numpy() >= limit)
    return pd.Series(np.select([~withheld & short, ~withheld, known_short], ["short", "met", "short"], "withheld"),
                     index=quota.index)


# ------------------------------------------------------------------------------------------------- progress

def recruitment(con: Store, exact: bool = False) -> dict[str, float]:
    """{'active': active members of panel.csv (published; NaN when withheld), 'ledger': 1.0 when panel.csv has
    any rows, else 0.0}."""
    members = con.query("panel_members")
    total = protect(pd.DataFrame({"active": [len(members)], "ckey": [members["rkey"].sum()]}), "active",
                    reach.threshold(con), exact=exact)
    return {"active": float(total["active"].iloc[0]), "ledger": float(len(members) > 0)}


def progress(con: Store, source: str = "ledger", size: int = 1000, strata: Sequence[str] = DEFAULT_STRATA,
             oversample: float = 1.0, priority: Sequence[str] = DEFAULT_PRIORITY, exact: bool = False) -> pd.DataFrame:
    """Recruited against quota per stratum, biggest gaps first (then the least recruited against quota). `source`: 'ledger' (active members of panel.csv)
    or 'standin' (the stand-in pool). Columns: stratum, <strata>, quota, recruited, gap (quota − recruited,
    0 when met), percent_of_quota, status ('short', 'met', or 'withheld' when neither can be told), withheld.
    Recruited counts are published (cell-key perturbation by the members' record keys), and the gap, percentage
    and status come from them: designs with other strata then difference to noise, not to members."""
    if source not in ("ledger", "standin"):
        raise PanelInputError(f"unknown source {source!r}; use 'ledger' or 'standin'")
    keys = _keys(strata, oversample, priority)
    table = quotas(con, size, strata, oversample, priority)
    members = con.query("panel_members" if source == "ledger" else "panel_standin_pool")
    placed, _ = _placed(con, members, keys, priority)
    counted = placed.groupby("stratum").agg(recruited=("member_id", "size"), ckey=("rkey", "sum"))
    table[["recruited", "ckey"]] = counted.reindex(table["stratum"]).fillna(0).to_numpy()
    limit = reach.threshold(con)
    table = protect(table, "recruited", limit, exact=exact)
    table["gap"] = (table["quota"] - table["recruited"]).clip(lower=0)
    table["percent_of_quota"] = (100 * table["recruited"] / table["quota"]).where(table["quota"] > 0)
    table["status"] = _status(table["gap"].fillna(np.inf) > 0, table["quota"], table["withheld"], limit)
    # Biggest gaps first; a withheld stratum known to be short is short by at least quota − (threshold − 1).
    lower_bound = (table["quota"] - limit + 1).where(table["status"] == "short", 0)
    # Among strata with no known gap, the least far past their quota come first and the withheld last.
    order = table.assign(rank=table["gap"].fillna(lower_bound), past=table["percent_of_quota"].fillna(np.inf))
    return order.sort_values(["rank", "past"], ascending=[False, True], kind="stable")[
        ["stratum", *keys, "quota", "recruited", "gap", "percent_of_quota", "status", "withheld"]].reset_index(drop=True)


def describe_progress(table: pd.DataFrame) -> str:
    """From progress: how many strata are met and short, and the biggest known gaps, in words."""
    short = table[table["status"] == "short"]
    text = (f"{(table['status'] == 'met').sum()} of {len(table)} strata have met their quota and {len(short)} are "
            "short")
    named = short.dropna(subset=["gap"]).head(3)
    if len(named):
        text += "; the biggest gaps: " + "; ".join(f"{r.stratum} ({r.gap:,.0f} to go)" for r in named.itertuples())
    hidden = int((table["status"] == "withheld").sum())
    return text + "." + (f" {hidden} strata are withheld because the numbers are small." if hidden else "")


# ------------------------------------------------------------------------------------------------ selection

def relax(quota: pd.Series, available: pd.Series) -> pd.DataFrame:
    """The smallest change to the quotas that the volunteers can meet. Short strata (quota > available) keep
    only what is available; their shortfall moves to strata with spare volunteers in proportion to those
    strata's quotas (largest remainder), never beyond what they have. Index: the strata. Columns: quota,
    available, shortfall, relaxed_quota. The total is kept unless the whole pool is smaller than the panel."""
    table = pd.DataFrame({"quota": quota, "available": available.reindex(quota.index).fillna(0)}).astype(int)
    table["shortfall"] = (table["quota"] - table["available"]).clip(lower=0)
    relaxed = table[["quota", "available"]].min(axis=1)
    missing = int(table["quota"].sum() - relaxed.sum())
    while missing > 0:
        spare = table["available"] - relaxed
        open_ = spare > 0
        if not open_.any():
            break  # everyone in the pool is already chosen
        basis = table.loc[open_, "quota"] if table.loc[open_, "quota"].sum() > 0 else spare[open_]
        extra = np.minimum(largest_remainder(basis, missing), spare[open_])
        relaxed[open_] += extra  # capped strata are full now, so each pass fills or closes at least one
        missing = int(table["quota"].sum() - relaxed.sum())
    table["relaxed_quota"] = relaxed
    return table


def draw(placed: pd.DataFrame, counts: pd.Series, seed: int) -> list[str]:
    """Stratified random selection: `counts[stratum]` members drawn without replacement from each stratum of
    `placed` (member_id, stratum). The same seed and volunteers give the same panel, whatever the row order.
    Returns the selected member ids, sorted (the order must not give the strata away)."""
    rng = np.random.default_rng(seed)
    chosen: list[str] = []
    for stratum, part in sorted(placed.groupby("stratum")["member_id"], key=lambda item: item[0]):
        n = int(counts.get(stratum, 0))
        if n:
            ids = np.sort(part.to_numpy(dtype=str))
            chosen += list(rng.choice(ids, size=n, replace=False))
    return sorted(chosen)


@dataclass
class Selection:
    """A selected panel. `table` holds counts per stratum after disclosure control; `ids` is record-level
    personal data (member ids only) for download, never for display."""
    table: pd.DataFrame  # stratum, <strata>, quota, available, shortfall, relaxed_quota, status, withheld
    ids: pd.DataFrame  # member_id
    feasible: bool  # the quotas can be met as designed
    summary: dict[str, float] = field(default_factory=dict)
    message: str = ""


def select(con: Store, size: int = 1000, strata: Sequence[str] = DEFAULT_STRATA, oversample: float = 1.0,
           priority: Sequence[str] = DEFAULT_PRIORITY, seed: int = 1, pool_csv: bytes | None = None) -> Selection:
    """Check the quotas against the volunteers, relax them if they cannot be met, and draw the panel.
    Summary: volunteers, outside_base, selected (each NaN under the threshold), short_strata, moved (members
    moved between strata), effective_n and design_effect of the selected panel's design weights."""
    keys = _keys(strata, oversample, priority)
    table = quotas(con, size, strata, oversample, priority)
    volunteers = pool(con, pool_csv)
    placed, outside = _placed(con, volunteers, keys, priority)
    if placed.empty:
        raise PanelInputError("no volunteer is aged 15 or over, so no one can be selected")
    plan = relax(table.set_index("stratum")["quota"], placed["stratum"].value_counts())
    ids = draw(placed, plan["relaxed_quota"], seed)
    table = table.join(plan.drop(columns="quota"), on="stratum")
    limit = reach.threshold(con)
    effects = design_effects(allocate_from(table, "relaxed_quota"))
    # Volunteer selection is for signed-in editors only (pages/5_Citizens_panel.py): its figures are exact.
    summary = {"volunteers": float(len(placed)), "outside_base": float(outside), "selected": float(len(ids)),
               "short_strata": float((plan["shortfall"] > 0).sum()),
               "moved": float((plan["relaxed_quota"] - plan[["quota", "available"]].min(axis=1)).sum()),
               "effective_n": effects["effective_n"], "design_effect": effects["design_effect"]}
    # A relaxed quota gives the volunteers away only where it was cut to what is available, or raised by spare
    # volunteers; elsewhere it is the published quota. So it is withheld with `available`, not on its own.
    shown = withhold(table, "available", 0)
    shown["status"] = _status(table["shortfall"] > 0, shown["quota"], shown["withheld"], limit)
    shown["protection"] = UNPROTECTED  # for the signed-in editor who selects: on screen and in the download
    columns = ["stratum", *keys, "quota", "available", "shortfall", "relaxed_quota", "status", "withheld", "protection"]
    feasible = bool(plan["shortfall"].sum() == 0)
    return Selection(shown[columns], pd.DataFrame({"member_id": ids}), feasible, summary,
                     _selection_message(feasible, len(ids), int(size), summary, limit))


def allocate_from(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """A quota sheet whose quotas are `column` (e.g. the relaxed quotas), with design weights recomputed."""
    out = table.assign(quota=table[column])
    share = out["quota"] / out["quota"].sum()
    return out.assign(panel_share=share, design_weight=(out["population_share"] / share).where(out["quota"] > 0))


def _selection_message(feasible: bool, selected: int, size: int, summary: dict[str, float], limit: int) -> str:
    if feasible:
        return f"Every quota can be met: {size:,} members were selected at random within their strata."
    text = (f"The volunteers cannot meet {summary['short_strata']:.0f} quota(s): {summary['moved']:,.0f} place(s) "
            "were moved from short strata to strata with spare volunteers, in proportion to their quotas — the "
            "smallest change that keeps the panel's size (column relaxed_quota).")
    if selected < size:
        left = f"{selected:,}" if selected >= limit else f"fewer than {limit}"
        text = (f"The pool is smaller than the panel: all {left} eligible volunteers were selected, and the panel "
                f"falls short of {size:,}. Recruit more volunteers, above all in the strata marked short.")
    return text
