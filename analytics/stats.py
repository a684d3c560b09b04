"""Small, vectorised statistics for the dashboard: intervals, representativeness and survey weighting.

Functions take numpy arrays or scalars; scalar input gives floats back, array input gives arrays (broadcast).
Impossible input raises `StatsInputError` with a message that says what to fix. Raking is a short numpy
implementation: the PyPI options (ipfn: last release 2021; samplics: heavy dependencies; weightipy) are not
installed, and none of them keeps a trimming cap on the final weights as `rake` does. Intervals for
respondents who arrive in activities (clusters) are in analytics/design.py.
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


def _weights(weights: ArrayLike, counts: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weights and how many respondents each stands for (1 each without counts), checked."""
    w = _arr(weights, "weights").ravel()
    n = np.ones_like(w) if counts is None else _arr(counts, "counts").ravel()
    if n.shape != w.shape:
        raise StatsInputError(f"counts need one value per weight; got {n.size} counts and {w.size} weights")
    if np.any(n < 0) or n.sum() <= 0:
        raise StatsInputError("counts must be non-negative with a positive total")
    if w.size == 0 or np.any(w < 0) or (w * n).sum() <= 0:
        raise StatsInputError("weights must be non-negative with a positive total")
    return w, n


def kish_effective_n(weights: ArrayLike, counts: ArrayLike | None = None) -> float:
    """Kish effective sample size (Σw)² / Σw²: how many unweighted responses the weighted sample is worth.

    `counts` says how many respondents share each weight (cells, as in `rake`); sums then run over respondents."""
    w, n = _weights(weights, counts)
    return float((n * w).sum() ** 2 / (n * w**2).sum())


def design_effect(weights: ArrayLike, counts: ArrayLike | None = None) -> float:
    """Kish design effect n / n_eff due to unequal weights (1 = no loss of precision); `counts` as in
    kish_effective_n."""
    w, n = _weights(weights, counts)
    return float(n.sum() / kish_effective_n(w, n))


def linearised_effective_n(indicator: ArrayLike, weights: ArrayLike, counts: ArrayLike | None = None) -> float:
    """Effective sample size of the weighted proportion p = Σw·y / Σw: n_eff = p(1 − p) / V (Korn & Graubard 1998).

    V is p's Taylor-linearised variance with respondents as independent units drawn with replacement (Binder
    1983): V = n/(n − 1) · Σ (w_i (y_i − p))² / (Σw)², over the n respondents. Unlike Kish's n_eff it sees how the
    weights fall on the two sides of the answer; with equal weights it is n − 1. Where p is 0 or 1, V is 0 and
    Kish's n_eff is returned instead. `counts` as in kish_effective_n.
    """
    x, (w, n) = _arr(indicator, "indicator").ravel(), _weights(weights, counts)
    if x.shape != w.shape:
        raise StatsInputError(f"indicator and weights need one value per response; got {x.size} and {w.size}")
    if not np.all((x == 0) | (x == 1)):
        raise StatsInputError("indicator must be 0/1 (or True/False) for each response")
    total = (n * w).sum()
    p = float((n * w * x).sum() / total)
    v = n.sum() / (n.sum() - 1) * (n * (w * (x - p)) ** 2).sum() / total**2 if n.sum() > 1 else 0.0
    return float(p * (1 - p) / v) if v > 0 else kish_effective_n(w, n)


def weighted_proportion_interval(indicator: ArrayLike, weights: ArrayLike, confidence: float = 0.95,
                                 counts: ArrayLike | None = None,
                                 df: float | None = None) -> tuple[float, float, float]:
    """(p, lower, upper): weighted proportion p = Σw·y / Σw with a Wilson interval on its effective sample size.

    The effective size is `linearised_effective_n` (Korn & Graubard 1998, Survey Methodology 24:193-201, with the
    linearised variance of Binder 1983, Int. Stat. Review 51:279-292), not Kish's alone. With `df`, it is also
    multiplied by (z / t_df)², Korn & Graubard's degrees-of-freedom adjustment for a variance that is itself
    estimated (df = respondents − 1 with respondents as the units). `counts` says how many respondents each
    entry stands for (cells of identical respondents, as in `rake`).
    """
    x, (w, n) = _arr(indicator, "indicator").ravel(), _weights(weights, counts)
    n_eff = linearised_effective_n(x, w, n)
    if df is not None:
        if not df >= 1:
            raise StatsInputError(f"degrees of freedom must be 1 or more; got {df!r}")
        n_eff *= (_z(confidence) / stats.t.ppf(1 - (1 - normalise_confidence(confidence)) / 2, df)) ** 2
    p = float((n * w * x).sum() / (n * w).sum())
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
    """Raking outcome. `converged` False with trimming means capped weights cannot hit every margin; the weights
    returned still respect the cap, and `max_margin_error` says how far they miss."""
    weights: np.ndarray
    iterations: int
    converged: bool
    max_margin_error: float  # largest |weighted share - target share| over all categories of all margins
    history: list[float] = field(default_factory=list)
    reference_mean: float = float("nan")  # target total ÷ respondents: the mean of any weights meeting the margins


def _scale_capped(u: np.ndarray, n: np.ndarray, codes: np.ndarray, targets: np.ndarray, low: float,
                  high: float) -> np.ndarray:
    """For each category c the factor f with Σ_{i∈c} n_i·clip(f·u_i, low, high) = t_c, solved exactly.

    The sum is piecewise linear and non-decreasing in f, with a kink where a row leaves the floor (f = low/u) or
    reaches the cap (f = high/u), so the root lies on the segment where the sum first reaches t_c. A target
    below every row on the floor, or above every row on the cap, cannot be met: f then puts every row on it.
    """
    k, live = len(targets), (u > 0) & (n > 0)
    cat = np.concatenate([codes[live]] * 2)
    at = np.concatenate([low / u[live], high / u[live]])
    # Past its floor kink a row stops adding low·n and adds f·u·n instead; past its cap kink, the reverse.
    d_const = np.concatenate([-low * n[live], high * n[live]])
    d_slope = np.concatenate([(u * n)[live], -(u * n)[live]])
    order = np.lexsort((at, cat))
    cat, at, d_const, d_slope = cat[order], at[order], d_const[order], d_slope[order]
    begin = np.searchsorted(cat, np.arange(k))
    end = np.searchsorted(cat, np.arange(k), side="right")
    first = np.repeat(begin, end - begin)  # each kink's category's first kink
    const, slope = np.cumsum(d_const), np.cumsum(d_slope)
    const = const - const[first] + d_const[first] + low * np.bincount(codes, weights=n, minlength=k)[cat]
    slope = slope - slope[first] + d_slope[first]
    value = const + at * slope  # the sum just past each kink (it is continuous, so also at the kink)
    idx = np.arange(len(cat))
    hit = np.full(k, len(cat))
    reached = value >= targets[cat]
    np.minimum.at(hit, cat[reached], idx[reached])
    factors = np.ones(k)
    has = end > begin
    none = has & (hit >= end)  # above every row on the cap: all on the cap
    factors[none] = at[end[none] - 1]
    floor = has & (hit == begin)  # at or below every row on the floor: all on the floor
    factors[floor] = at[begin[floor]]
    mid = has & (hit > begin) & (hit < end)
    j = hit[mid] - 1
    factors[mid] = at[j] + np.divide(targets[mid] - value[j], slope[j], out=np.zeros(j.size), where=slope[j] > 0)
    return factors


def _check_margins(sample: pd.DataFrame, margins: dict[str, pd.Series],
                   mass: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each margin's category code per row and its target totals (shares scaled to the sample's weighted total)."""
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
        have = np.bincount(c, weights=mass, minlength=len(m))
        empty = np.flatnonzero((have == 0) & (m > 0))  # a zero target with no rows is harmless, so allowed
        if empty.size:
            raise StatsInputError(f"variable '{var}': margin category {margin.index[empty[0]]!r} has no sample rows "
                                  "(or only zero weights); merge it with a neighbouring category")
        codes.append(c)
        targets.append(m * mass.sum() if abs(m.sum() - 1) <= 1e-6 else m)  # shares -> sample's weighted total
    totals = [t.sum() for t in targets]
    if max(abs(t - totals[0]) for t in totals) > 1e-6 * totals[0]:
        named = ", ".join(f"{v}={t:g}" for v, t in zip(margins, totals))
        raise StatsInputError(f"margins disagree on the total ({named}); they must describe the same population")
    return codes, targets


_SLACK = 1e4  # how far past a bound the unclipped weights may run: far enough to stay pinned, not to lose precision


def rake(sample: pd.DataFrame, margins: dict[str, pd.Series], weight: str | None = None, max_iter: int = 100,
         tol: float = 1e-8, trim: tuple[float, float] | None = None, counts: str | None = None) -> RakeResult:
    """Rake (iterative proportional fitting) weights so each variable's weighted totals match its margin.

    Each margin is a Series of target totals indexed by category; one summing to 1 is read as shares and
    scaled to the sample's weighted total. One iteration adjusts every margin in turn; raking stops when every
    margin is met to `tol` (as shares) or when the weights stop changing.

    `trim=(lo, hi)` caps every weight to [lo·m, hi·m], where m is fixed before raking: the target total ÷
    respondents, which is the mean of any weights meeting the margins (so the mean of the untrimmed raked
    weights; with margins given as shares, the mean base weight). Each margin's step then finds, per category,
    the factor f with Σ n·clip(f·u, lo·m, hi·m) = target, where u is a running copy of the weights that is never
    clipped, and the weights are clip(u, lo·m, hi·m). This is raking as a calibration (Deville & Särndal 1992,
    JASA 87:376-382) with its distance restricted to the bounds, solved by coordinate ascent on the dual. Unlike
    trimming within iterations (anesrake, Pasek's R package: after each pass, cap at cap × the mean and rescale
    until no weight exceeds it, then rake on from the capped weights), the answer does not depend on the path:
    a cap that does not bind at the solution changes nothing, and one that binds gives the capped weights
    closest to the base weights in raking's distance. Each iteration ends by restoring the target total, so
    the weights' own mean is m and the cap holds against it too. When the cap and the margins conflict, the
    weights returned still respect the cap, `converged` is False and `max_margin_error` says how far they miss.

    `counts` names a column saying how many identical respondents each row stands for (a table of cells): raking
    gives respondents alike on every margin the same weight, so a million respondents rake as a few thousand
    cells. Weights returned are then per respondent, and m is a mean over respondents.
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
    codes, targets = _check_margins(sample, margins, base * n)
    steps, total = list(zip(codes, targets)), float(targets[0].sum())
    reference = float(total / n.sum())
    bounds = None if trim is None else (trim[0] * reference, trim[1] * reference)
    if bounds is not None:  # the total as a last step, so the mean stays m even where a margin cannot be met
        room = (max(bounds[0], reference * 1e-12) / _SLACK, bounds[1] * _SLACK)
        steps.append((np.zeros(len(sample), dtype=np.intp), np.array([total])))

    def error(w: np.ndarray) -> float:
        # Compare shares, not totals, so a shortfall in the overall total is not counted twice.
        return max(float(np.abs(np.bincount(c, weights=w * n, minlength=len(t)) / (w * n).sum() - t / t.sum()).max())
                   for c, t in zip(codes, targets))

    u, w, history = base.copy(), base.copy(), []
    for _ in range(max_iter):
        for c, t in steps:
            u = u * _factors(u, n, c, t, bounds)[c]
            if bounds is not None:  # u counts only through clip(u); unchecked, a margin it cannot meet drives it
                u = np.where(u > 0, np.clip(u, *room), 0.0)  # to 0 or infinity, and precision with it
        w, before = (u if bounds is None else np.clip(u, *bounds)), w
        history.append(error(w))
        if history[-1] <= tol or np.allclose(w, before, rtol=1e-12, atol=0):  # met, or as close as it will get
            break
    return RakeResult(weights=w, iterations=len(history), converged=bool(history and history[-1] <= tol),
                      max_margin_error=history[-1] if history else error(w), history=history,
                      reference_mean=reference)


def _factors(u: np.ndarray, n: np.ndarray, codes: np.ndarray, targets: np.ndarray,
             bounds: tuple[float, float] | None) -> np.ndarray:
    """One raking step's factor per category: target ÷ weighted count, or the capped solution with bounds."""
    if bounds is not None:
        return _scale_capped(u, n, codes, targets, *bounds)
    have = np.bincount(codes, weights=u * n, minlength=len(targets))
    return np.divide(targets, have, out=np.ones_like(targets), where=have > 0)
