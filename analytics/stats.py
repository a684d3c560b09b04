"""Small, vectorised statistics for the dashboard: intervals, representativeness and survey weighting.

Functions take numpy arrays or scalars; scalar input gives floats back, array input gives arrays (broadcast).
Impossible input raises `StatsInputError` with a message that says what to fix. Raking is a short numpy
implementation: the PyPI options (ipfn: last release 2021; samplics: heavy dependencies; weightipy) are not
installed and the algorithm is a dozen lines.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

ArrayLike = float | int | np.ndarray


class StatsInputError(ValueError):
    """Input that cannot describe a real quantity (negative counts, successes > trials, ...)."""


def _arr(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(a)):  # NaN/inf would silently poison every interval downstream
        raise StatsInputError(f"{name} must be finite numbers; found NaN or infinity")
    return a


def _out(a: np.ndarray, scalar: bool):
    return float(a) if scalar else a


def normalise_confidence(confidence: float) -> float:
    """Confidence as a fraction: 95 or 0.95 -> 0.95; 99.8 or 0.998 -> 0.998. Only 90-100% (exclusive) is allowed."""
    try:
        c = float(confidence)
    except (TypeError, ValueError):
        raise StatsInputError(f"confidence must be a number such as 0.95 or 95, not {confidence!r}") from None
    if 90 <= c < 100:  # percent form, as people type it in the sidebar
        c /= 100
    if not 0.90 <= c < 1.0:  # below 90% is not a level we report; 100% has infinite limits
        raise StatsInputError(f"confidence must be between 90% and 100% (e.g. 0.95 or 95, 0.998 or 99.8); got {confidence!r}")
    return c


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - normalise_confidence(confidence)) / 2))


def wilson_interval(successes: ArrayLike, trials: ArrayLike, confidence: float = 0.95):
    """Wilson score interval (lower, upper) for successes/trials; exact 0 and 1 at the extremes.

    Chosen over the Wald interval because it stays inside [0, 1] and behaves for small counts and p near 0 or 1.
    Non-integer counts are allowed so effective (weighted) sample sizes can be used.
    """
    scalar = np.ndim(successes) == 0 and np.ndim(trials) == 0
    s, n = np.broadcast_arrays(_arr(successes, "successes"), _arr(trials, "trials"))
    if np.any(s < 0) or np.any(n < 0):
        raise StatsInputError("negative count: successes and trials must be zero or more")
    if np.any(n == 0):
        raise StatsInputError("zero trials: a proportion needs at least one trial; suppress or drop empty groups first")
    if np.any(s > n):
        raise StatsInputError("successes exceed trials: the numerator cannot be larger than the denominator")
    z = _z(confidence)
    p = s / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    # The formula gives 0 and 1 at the extremes only up to rounding; pin them so tables show 0.0% / 100.0%.
    lower = np.where(s == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    upper = np.where(s == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return _out(lower, scalar), _out(upper, scalar)


def rate_interval(count: ArrayLike, denominator: ArrayLike, multiplier: float = 1, confidence: float = 0.95):
    """Interval (lower, upper) for the rate count/denominator*multiplier, as PHS/APHO do it.

    Exact Poisson (chi-square) limits for count < 10, where Byar's approximation is poor; Byar's
    approximation for count >= 10, where it is accurate and cheap. The switch is made per element.
    """
    scalar = all(np.ndim(v) == 0 for v in (count, denominator))
    o, d = np.broadcast_arrays(_arr(count, "count"), _arr(denominator, "denominator"))
    if np.any(o < 0):
        raise StatsInputError("negative count: event counts must be zero or more")
    if np.any(d <= 0):
        raise StatsInputError("denominator must be greater than zero (a population of 0 has no rate); drop those rows")
    if not np.isfinite(multiplier) or multiplier <= 0:
        raise StatsInputError(f"multiplier must be a positive number such as 1000; got {multiplier!r}")
    z = _z(confidence)
    alpha = 1 - normalise_confidence(confidence)
    # Exact limits: chi2 with 0 degrees of freedom is undefined, and the lower limit for O = 0 is 0 by definition.
    exact_lo = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(o, 1e-300)) / 2, 0.0)
    exact_hi = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    ob = np.maximum(o, 1.0)  # Byar is only used for O >= 10; the floor just avoids dividing by zero elsewhere
    byar_lo = ob * (1 - 1 / (9 * ob) - z / (3 * np.sqrt(ob))) ** 3
    byar_hi = (ob + 1) * (1 - 1 / (9 * (ob + 1)) + z / (3 * np.sqrt(ob + 1))) ** 3
    use_byar = o >= 10
    scale = multiplier / d
    lower = np.where(use_byar, byar_lo, exact_lo) * scale
    upper = np.where(use_byar, byar_hi, exact_hi) * scale
    return _out(lower, scalar), _out(upper, scalar)


def _shares(x, name: str) -> np.ndarray:
    a = _arr(x, name).ravel()
    if np.any(a < 0) or a.sum() <= 0:
        raise StatsInputError(f"{name} must be non-negative with a positive total")
    return a / a.sum()  # normalise so counts and shares can be passed alike


def proportional_similarity(pop_share: ArrayLike, resp_share: ArrayLike) -> float:
    """Proportional similarity Σ min(p_i, r_i): 1 when respondents mirror the population, 0 when disjoint."""
    p, r = _shares(pop_share, "pop_share"), _shares(resp_share, "resp_share")
    if p.shape != r.shape:
        raise StatsInputError(f"pop_share and resp_share need one value per group; got {p.size} and {r.size}")
    return float(np.minimum(p, r).sum())


def participation_ratio_minmax(respondents: ArrayLike, population: ArrayLike) -> float:
    """min over groups of respondents/population divided by the max (1 = every group takes part equally).

    Groups with no population are ignored (no rate exists); a group with no respondents makes it 0.
    """
    r, p = _arr(respondents, "respondents").ravel(), _arr(population, "population").ravel()
    if r.shape != p.shape:
        raise StatsInputError(f"respondents and population need one value per group; got {r.size} and {p.size}")
    if np.any(r < 0) or np.any(p < 0):
        raise StatsInputError("negative count: respondents and population must be zero or more")
    keep = p > 0
    if not keep.any():
        raise StatsInputError("every group has zero population; check the population table for this area")
    rates = r[keep] / p[keep]
    return 0.0 if rates.max() == 0 else float(rates.min() / rates.max())


def _weights(weights) -> np.ndarray:
    w = _arr(weights, "weights").ravel()
    if w.size == 0 or np.any(w < 0) or w.sum() <= 0:
        raise StatsInputError("weights must be non-negative with a positive total")
    return w


def kish_effective_n(weights: ArrayLike) -> float:
    """Kish effective sample size (Σw)² / Σw²: how many unweighted responses the weighted sample is worth."""
    w = _weights(weights)
    return float(w.sum() ** 2 / (w**2).sum())


def design_effect(weights: ArrayLike) -> float:
    """Kish design effect n / n_eff due to unequal weights (1 = no loss of precision)."""
    w = _weights(weights)
    return float(w.size / kish_effective_n(w))


def weighted_proportion_interval(indicator: ArrayLike, weights: ArrayLike, confidence: float = 0.95):
    """(p, lower, upper): weighted proportion with a Wilson interval on the Kish effective sample size."""
    x, w = _arr(indicator, "indicator").ravel(), _weights(weights)
    if x.shape != w.shape:
        raise StatsInputError(f"indicator and weights need one value per response; got {x.size} and {w.size}")
    if not np.all((x == 0) | (x == 1)):
        raise StatsInputError("indicator must be 0/1 (or True/False) for each response")
    p = float((w * x).sum() / w.sum())
    n_eff = kish_effective_n(w)
    # min() guards against p*n_eff exceeding n_eff by rounding when every response is a success.
    lower, upper = wilson_interval(min(p * n_eff, n_eff), n_eff, confidence)
    return p, lower, upper


def standardised_difference(p_sample: ArrayLike, p_pop: ArrayLike):
    """Austin's (2009) standardised difference for proportions; |d| > 0.1 is the usual 'meaningful' flag.

    0 where both proportions are 0 or both are 1; ±inf where one is 0 and the other 1 (no variance, total gap).
    """
    scalar = np.ndim(p_sample) == 0 and np.ndim(p_pop) == 0
    s, p = np.broadcast_arrays(_arr(p_sample, "p_sample"), _arr(p_pop, "p_pop"))
    if np.any((s < 0) | (s > 1) | (p < 0) | (p > 1)):
        raise StatsInputError("proportions must lie between 0 and 1 (pass shares, not percentages)")
    diff = s - p
    sd = np.sqrt((s * (1 - s) + p * (1 - p)) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(sd > 0, diff / np.where(sd > 0, sd, 1.0), np.where(diff == 0, 0.0, np.sign(diff) * np.inf))
    return _out(d, scalar)


@dataclass
class RakeResult:
    """Raking outcome. `converged` False with trimming means the trimmed weights cannot hit every margin."""
    weights: np.ndarray
    iterations: int
    converged: bool
    max_margin_error: float  # largest |weighted share - target share| over all categories of all margins
    history: list[float] = field(default_factory=list)


def rake(sample: pd.DataFrame, margins: dict[str, pd.Series], weight: str | None = None, max_iter: int = 100,
         tol: float = 1e-8, trim: tuple[float, float] | None = None, counts: str | None = None) -> RakeResult:
    """Rake (iterative proportional fitting) weights so each variable's weighted totals match its margin.

    Each margin is a Series of target totals indexed by category; one summing to 1 is read as shares and
    scaled to the sample's weighted total. One iteration adjusts every margin in turn. With `trim=(lo, hi)`,
    weights are clipped to [lo*mean, hi*mean] after each iteration and raking continues (trim-within-iterations,
    as anesrake does), so the result either meets the margins with trimmed weights or reports converged=False.

    `counts` names a column saying how many identical respondents each row stands for (a table of cells): raking
    gives respondents alike on every margin the same weight, so a million respondents rake as a few thousand
    cells. Weights returned are then per respondent, and trimming's mean is the mean over respondents.
    """
    if len(sample) == 0 or not margins:
        raise StatsInputError("raking needs at least one sample row and one margin")
    base = np.ones(len(sample)) if weight is None else _arr(sample[weight].to_numpy(), f"weight column '{weight}'")
    if np.any(base < 0) or base.sum() <= 0:
        raise StatsInputError(f"weight column '{weight}' must be non-negative with a positive total")
    n = np.ones(len(sample)) if counts is None else _arr(sample[counts].to_numpy(), f"counts column '{counts}'")
    if np.any(n < 0) or n.sum() <= 0:
        raise StatsInputError(f"counts column '{counts}' must be non-negative with a positive total")
    if trim is not None and not (0 <= trim[0] <= 1 <= trim[1]):
        raise StatsInputError(f"trim must be (low, high) with 0 <= low <= 1 <= high, e.g. (0.2, 5); got {trim}")
    codes, targets = [], []
    for var, margin in margins.items():
        if var not in sample.columns:
            raise StatsInputError(f"margin '{var}' has no column of that name in the sample")
        m = _arr(margin.to_numpy(), f"margin '{var}'")
        if margin.index.has_duplicates or np.any(m < 0) or m.sum() <= 0:
            raise StatsInputError(f"margin '{var}' needs unique categories and non-negative targets with a positive total")
        col = sample[var]
        unknown = col[~col.isin(margin.index)]
        if len(unknown):
            raise StatsInputError(f"variable '{var}': sample category {unknown.iloc[0]!r} has no margin entry; "
                                  "add it to the margin or recode the sample")
        c = pd.Categorical(col, categories=margin.index).codes.astype(np.intp)
        have = np.bincount(c, weights=base * n, minlength=len(m))
        empty = np.flatnonzero((have == 0) & (m > 0))  # a zero target with no rows is harmless, so allowed
        if empty.size:
            raise StatsInputError(f"variable '{var}': margin category {margin.index[empty[0]]!r} has no sample rows "
                                  "(or only zero weights); merge it with a neighbouring category")
        codes.append(c)
        targets.append(m * (base * n).sum() if abs(m.sum() - 1) <= 1e-6 else m)  # shares -> sample's weighted total
    totals = [t.sum() for t in targets]
    if max(abs(t - totals[0]) for t in totals) > 1e-6 * totals[0]:
        named = ", ".join(f"{v}={t:g}" for v, t in zip(margins, totals))
        raise StatsInputError(f"margins disagree on the total ({named}); they must describe the same population")

    def error(w: np.ndarray) -> float:
        # Compare shares, not totals, so trimming's change of the overall total is not counted as an error.
        return max(float(np.abs(np.bincount(c, weights=w * n, minlength=len(t)) / (w * n).sum() - t / t.sum()).max())
                   for c, t in zip(codes, targets))

    w, history = base.copy(), []
    for _ in range(max_iter):
        for c, t in zip(codes, targets):
            have = np.bincount(c, weights=w * n, minlength=len(t))
            w = w * np.divide(t, have, out=np.ones_like(t), where=have > 0)[c]
        if trim is not None:
            mean = (w * n).sum() / n.sum()
            w = np.clip(w, trim[0] * mean, trim[1] * mean)
        history.append(error(w))
        if history[-1] <= tol:
            break
    return RakeResult(weights=w, iterations=len(history), converged=bool(history and history[-1] <= tol),
                      max_margin_error=history[-1] if history else error(w), history=history)


def funnel_limits(expected: ArrayLike, confidence: float = 0.998):
    """Control limits for an observed count whose expected value is `expected` (funnel plots).

    Uses the exact Poisson limits in their continuous chi-square form (as the PHE/Fingertips funnel tools do),
    so the limits are smooth in the expected count: lower = χ²(α/2; 2E)/2, upper = χ²(1−α/2; 2E+2)/2.
    """
    e = _arr(expected, "expected")
    alpha = 1 - normalise_confidence(confidence)
    lower = np.where(e > 0, stats.chi2.ppf(alpha / 2, np.maximum(2 * e, 1e-12)) / 2, 0.0)
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * e + 2) / 2
    return _out(lower, np.ndim(expected) == 0), _out(upper, np.ndim(expected) == 0)
