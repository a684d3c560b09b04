"""Survey weighting: rake respondents to the population's margins (residents aged 15+), so that results speak
for residents rather than for whoever answered, and show what that does to support for each priority.

The respondents weighted are reach's one base (aged 15+, home area, age band and sex F or M known); the rest
are left out. Unweighted figures are given for the same respondents, so the two compare like with like.
Filters are the reach filters (reach.filters); with a locality chosen, the population base is that locality.

Issue 18: raking runs on the *published* count of each weighting cell (locality × quintile × sex × age band,
analytics/disclosure.py), and supporters of each priority are published per cell too, so every figure here —
weights, effective size, shares, intervals — is a function of published counts: a weighting summary tells a
viewer nothing about the people that the published counts do not. The perturbation adds a little noise to the
shares (each cell's count moves by about ±1); the intervals do not include it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from analytics import reach, stats
from analytics.db import Store
from analytics.disclosure import perturb, protect, withhold

MIN_AGE = 15
MARGINS = {"age_band+sex": "Age band × sex", "age_group+sex": "Age group × sex", "age_band": "Age band",
           "age_group": "Age group", "sex": "Sex", "locality": "Locality", "quintile": "Deprivation quintile"}
DEFAULT_MARGINS = ("age_band+sex", "locality", "quintile")
SEX_WORDS = {"F": "Women", "M": "Men"}


class WeightingInputError(ValueError):
    """Weighting that cannot be done as asked; the message says what to change."""


@dataclass
class Weighting:
    """Raking's outcome, as aggregates only (no respondent's weight leaves this module)."""
    summary: dict[str, float]  # see weight_responses
    history: pd.DataFrame  # iteration, max_margin_error
    margins: pd.DataFrame  # see _margin_table
    support: pd.DataFrame  # see _support_table


def margins_from(age: str = "age_band+sex", locality: bool = True, quintile: bool = True) -> tuple[str, ...]:
    """The margins tuple from the page's three choices; `age` is a margin key with age (and sex), or 'none'."""
    chosen = ((age, age in MARGINS), ("locality", locality), ("quintile", quintile))
    return tuple(name for name, on in chosen if on)


def _parts(margin: str) -> list[str]:
    if margin not in MARGINS:
        raise WeightingInputError(f"unknown margin {margin!r}; choose from {', '.join(MARGINS)}")
    return margin.split("+")


def _key(frame: pd.DataFrame, margin: str) -> pd.Series:
    """The margin's category for each row as text ('65-69|F'), so sample and population match exactly."""
    parts = [frame[p].astype("string").str.replace(r"\.0$", "", regex=True) for p in _parts(margin)]
    key = parts[0]
    for part in parts[1:]:
        key = key + "|" + part
    return key


def _sample(con: Store, margins: Sequence[str], f: dict[str, str], limit: int,
            exact: bool) -> tuple[pd.DataFrame, float]:
    """Cells of the base's respondents (cell, respondents published, one column per margin), and how many
    respondents matching the filters were left out (published as one count; NaN when withheld). A million
    respondents fall in a few thousand cells, and raking gives everyone in a cell the same weight, so the cells
    are what is raked; a cell withheld as small is raked as empty."""
    raw = con.query("weighting_cells", **f)
    frame = reach._base(raw, MIN_AGE)  # reach's one base and its age groups
    left_out = raw[~raw["cell"].isin(frame["cell"])]
    excluded = protect(left_out[["respondents", "ckey"]].sum().to_frame().T, "respondents", limit,
                       exact=exact)["respondents"].iloc[0]
    published = frame["respondents"] if exact else perturb(frame["respondents"], frame["ckey"], limit)
    sample = pd.DataFrame({"cell": frame["cell"].to_numpy(), "respondents": np.asarray(published, dtype=float)})
    for margin in margins:
        sample[margin] = _key(frame, margin).to_numpy()
    return sample[sample["respondents"] > 0].reset_index(drop=True), float(excluded)


def _targets(con: Store, margins: Sequence[str], locality: str) -> dict[str, pd.Series]:
    """Residents aged 15+ per category of each margin (the totals raking aims at)."""
    cells = reach.population_cells(con, min_age=MIN_AGE, locality=locality)
    cells = cells.assign(**{m: _key(cells, m) for m in margins})
    return {m: cells.groupby(m)["population"].sum().astype(float) for m in margins}


def weight_responses(con: Store, margins: Sequence[str] = DEFAULT_MARGINS, trim: float = 5.0, exact: bool = False,
                     **given: str) -> Weighting:
    """Rake the filtered respondents to the population margins, capping weights to [mean ÷ trim, mean × trim]
    (trim 0 = no trimming), where the mean is residents ÷ respondents and the cap holds on the weights returned
    (stats.rake). Summary: respondents (weighted: the sum of the published cells), excluded (left out, published;
    NaN when withheld), trim, iterations, converged (1/0; 0 with a cap means the
    capped weights cannot meet every margin), max_margin_error (largest gap between a weighted share and the
    population's, as a fraction), effective_n (Kish), design_effect, weight_min, weight_max, weight_ratio
    (max ÷ min) and weight_cv (standard deviation ÷ mean), all of weights scaled to mean 1."""
    margins = list(dict.fromkeys(margins))
    if not margins:
        raise WeightingInputError("choose at least one margin to weight to")
    f, limit = reach.filters(**given), reach.threshold(con)
    sample, excluded = _sample(con, margins, f, limit, exact)
    n = int(sample["respondents"].sum())
    if n == 0 or n < limit:
        raise WeightingInputError(f"Fewer than {max(limit, 1)} respondents matching these filters have every raking "
                                  "variable recorded, too few to weight; widen the filters or choose fewer margins.")
    if trim and trim < 1:
        raise WeightingInputError(f"trim must be 0 (none) or a factor of 1 or more, such as 5; got {trim!r}")
    targets = _targets(con, margins, f["locality"])
    try:
        result = stats.rake(sample, targets, trim=(1 / trim, trim) if trim else None, counts="respondents")
    except stats.StatsInputError as exc:  # "no sample rows": none published, i.e. fewer than the threshold
        reason = str(exc).replace("has no sample rows", f"has fewer than {limit} respondents")
        raise WeightingInputError(f"These respondents cannot be weighted to these margins: {reason}. Choose broader "
                                  "margins (age group × sex rather than five-year bands) or widen the filters.") from exc
    counts = sample["respondents"].to_numpy()
    weights = result.weights / np.average(result.weights, weights=counts)  # per respondent, mean 1
    summary = _summary(result, weights, counts, n, excluded) | {"trim": float(trim or 0)}
    history = pd.DataFrame({"iteration": range(1, len(result.history) + 1), "max_margin_error": result.history})
    shown = 0 if exact else limit
    return Weighting(summary, history, _margin_table(sample, weights, targets, shown),
                     _support_table(con, sample, weights, f, limit, exact))


def _summary(result: stats.RakeResult, weights: np.ndarray, counts: np.ndarray, n: int,
             excluded: float) -> dict[str, float]:
    """`weights`: each cell's respondent weight (mean 1 over respondents); `counts`: its published respondents."""
    held = weights[counts > 0]  # a cell with no respondents holds no one's weight
    spread = np.sqrt(np.average((weights - 1) ** 2, weights=counts))  # SD over respondents; the mean is 1, so the CV
    return {"respondents": float(n), "excluded": excluded,
            "iterations": float(result.iterations), "converged": float(result.converged),
            "max_margin_error": result.max_margin_error, "effective_n": stats.kish_effective_n(weights, counts),
            "design_effect": stats.design_effect(weights, counts), "weight_min": float(held.min()),
            "weight_max": float(held.max()), "weight_ratio": float(held.max() / held.min()),
            "weight_cv": float(spread)}


def _label(margin: str, category: str) -> str:
    """'Women 65-69', 'Quintile 1', 'Eastfield'."""
    values = dict(zip(_parts(margin), category.split("|")))
    if "sex" in values:
        age = next((values[k] for k in ("age_band", "age_group") if k in values), "")
        return f"{SEX_WORDS.get(values['sex'], values['sex'])} {age}".strip()
    if "quintile" in values:
        return f"Quintile {values['quintile']}"
    return category


def _margin_table(sample: pd.DataFrame, weights: np.ndarray, targets: dict[str, pd.Series], limit: int) -> pd.DataFrame:
    """How far weighting moved each margin. Columns: margin, category, label, population, population_share,
    respondents, sample_share, weighted_share, std_diff_before, std_diff_after (Austin's standardised
    difference against the population share; |d| > 0.1 is the usual flag), withheld."""
    rows = []
    for margin, target in targets.items():
        heard = sample.groupby(margin)["respondents"].sum().reindex(target.index, fill_value=0)
        mass = pd.Series(weights * sample["respondents"].to_numpy(), index=sample.index).groupby(
            sample[margin]).sum().reindex(target.index, fill_value=0)
        rows.append(pd.DataFrame({"margin": MARGINS[margin], "category": target.index,
                                  "label": [_label(margin, c) for c in target.index], "population": target.to_numpy(),
                                  "population_share": (target / target.sum()).to_numpy(),
                                  "respondents": heard.to_numpy(), "sample_share": (heard / heard.sum()).to_numpy(),
                                  "weighted_share": (mass / mass.sum()).to_numpy()}))
    table = pd.concat(rows, ignore_index=True)
    table["std_diff_before"] = stats.standardised_difference(table["sample_share"].to_numpy(),
                                                             table["population_share"].to_numpy())
    table["std_diff_after"] = stats.standardised_difference(table["weighted_share"].clip(0, 1).to_numpy(),
                                                            table["population_share"].to_numpy())
    # Raking meets margins to ~1e-8: differences that small are convergence noise, shown as 0 (not "-0.00").
    for column in ("std_diff_before", "std_diff_after"):
        table[column] = table[column].round(6) + 0.0
    # Sums of published cells: a category under the threshold is withheld like any count of people.
    return withhold(table, "respondents", limit, ("sample_share", "std_diff_before"))


def _support_table(con: Store, sample: pd.DataFrame, weights: np.ndarray, f: dict[str, str], limit: int,
                   exact: bool) -> pd.DataFrame:
    """Support for each priority among the weighted respondents (`sample`: their cells; `weights`: each cell's
    respondent weight). Columns: priority, label, supporters, unweighted, unweighted_low, unweighted_high (Wilson,
    95%), weighted, weighted_low, weighted_high (Wilson on the effective sample size from the linearised variance,
    Korn–Graubard, with degrees of freedom respondents − 1: stats.weighted_proportion_interval), change (weighted −
    unweighted, percentage points), withheld. Shares in %. Supporters are published per cell (never more than
    the cell's published respondents)."""
    priorities = con.query("weighting_priorities")
    backers = con.query("weighting_supporters", **f)
    if not exact:
        backers["supporters"] = perturb(backers["supporters"], backers["ckey"], limit)
    position = pd.Index(sample["cell"]).get_indexer(backers["cell"])  # -1: a cell left out of the weighting
    counts = sample["respondents"].to_numpy()
    table_rows = []
    for code, label in priorities.itertuples(index=False):
        mine = (backers["priority"] == code).to_numpy() & (position >= 0)
        yes = np.zeros(len(sample), dtype=int)
        yes[position[mine]] = backers["supporters"].to_numpy()[mine]
        yes = np.minimum(yes, counts)
        low, high = stats.wilson_interval(yes.sum(), counts.sum())
        indicator, weight, respondents = _sides(yes, counts, weights)
        p, w_low, w_high = stats.weighted_proportion_interval(indicator, weight, counts=respondents,
                                                              df=counts.sum() - 1)
        table_rows.append({"priority": code, "label": label, "supporters": yes.sum(), "others": (counts - yes).sum(),
                           "unweighted": 100 * yes.sum() / counts.sum(), "unweighted_low": 100 * low,
                           "unweighted_high": 100 * high, "weighted": 100 * p, "weighted_low": 100 * w_low,
                           "weighted_high": 100 * w_high})
    columns = ["priority", "label", "supporters", "others", "unweighted", "unweighted_low", "unweighted_high",
               "weighted", "weighted_low", "weighted_high"]
    table = pd.DataFrame(table_rows, columns=columns)
    table["change"] = table["weighted"] - table["unweighted"]
    # A share of a shown total gives back both the supporters and the others: withhold if either is small.
    table["smaller_side"] = table[["supporters", "others"]].min(axis=1)
    table = withhold(table, "smaller_side", 0 if exact else limit, columns[2:] + ["change"])
    return table.drop(columns=["smaller_side", "others"])


def _sides(yes: np.ndarray, counts: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cell split into its supporters and the rest, as (supports 1/0, weight, respondents) per part: the
    interval needs both sides of every cell, not each respondent spelled out."""
    indicator = np.tile([1.0, 0.0], len(counts))
    return indicator, np.repeat(weights, 2), np.column_stack([yes, counts - yes]).ravel()


def describe(result: Weighting) -> str:
    """Plain-English sentences on the weighting: whether it met the margins (and, when it did not, by how much it
    missed and what to change), the spread of weights and the effective sample size."""
    s = result.summary
    gap = f"{100 * s['max_margin_error']:.1f} percentage points"
    if s["converged"]:
        text = f"Raking met every margin in {s['iterations']:.0f} iteration(s). "
    elif s["trim"]:
        text = (f"Weights capped at 1/{s['trim']:g} to {s['trim']:g} times the average cannot match every margin: "
                f"every weight stays within the cap, so the weighted respondents still differ from residents by up "
                f"to {gap} in a category (the table below shows where). A wider cap or broader margins would close "
                "the gap. ")
    else:
        text = (f"Raking did not converge in {s['iterations']:.0f} iterations: the weighted respondents still "
                f"differ from residents by up to {gap} in a category (the table below shows where); broader "
                "margins would help. ")
    return text + (f"Weights run from {s['weight_min']:.2f} to {s['weight_max']:.2f} times the average (ratio "
                   f"{s['weight_ratio']:.1f}, coefficient of variation {s['weight_cv']:.2f}), so the weighted "
                   f"results are as precise as {s['effective_n']:,.0f} respondents chosen at random (design effect "
                   f"{s['design_effect']:.2f}).")


def describe_support(support: pd.DataFrame) -> str:
    """Which priority weighting moved most, in words."""
    shown = support.dropna(subset=["change"])
    if shown.empty:
        return "Support for every priority is withheld because the numbers are small."
    row = shown.loc[shown["change"].abs().idxmax()]
    return (f"Weighting moves support for {row['label'].lower()} the most: from {row['unweighted']:.1f}% of "
            f"respondents to {row['weighted']:.1f}% once they stand for residents ({row['change']:+.1f} points). "
            "Intervals after weighting are wider: they rest on the effective sample size.")
