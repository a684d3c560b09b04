"""Intervals and flags for respondent shares that stay honest when respondents arrive in activities (clusters),
when a group's population is an estimate, and when many groups are compared at once.

**Clusters.** People who answer a focus group in Eastfield are not independent draws: they come together, from
one place, often from one community. The variance of a group's share p = Y/N of respondents is estimated by
Taylor linearisation of the ratio with activities as primary sampling units (with-replacement, "ultimate
cluster" estimator: Wolter 2007, *Introduction to Variance Estimation*, §1.4 and ch. 6; Binder 1983), as R's
`survey::svymean` and Stata's `vce(cluster)` do:

    z_u = y_u − p·n_u  for each unit u of stratum h (y_u: the group's respondents in it, n_u: all of them),
    V(p) = Σ_h m_h/(m_h − 1) Σ_{u∈h} (z_u − z̄_h)² / N²  (m_h: units in stratum h).

An open partnership-wide survey (a survey method, locality `All`, no community named) is a *certainty* unit: it
was going to run whatever else happened, so it is a stratum of its own whose respondents are the units — its
thousands of answers keep the narrow intervals they deserve. Every other activity is one unit of a single
stratum. Within an open survey the sum reduces to m_h·ȳ_h(1 − ȳ_h), so counts per (group, activity) suffice.

**Intervals.** The design effect deff = V / (p(1 − p)/N), never below the dimension's pooled value
Σ V / Σ p(1 − p)/N (nor below 1): a group's own value is noisy, and small exactly when its share is small
because few large activities reached it. The interval is Wilson's on the effective size N/deff × (z/t_df)²
(Korn & Graubard 1998, *Survey Methodology* 24: 193–201; Dean & Pagano 2015, *Stat Med* 34: 2190), with
Satterthwaite's degrees of freedom over the strata, the activities counting as their effective number of
clusters. Checked by simulation (tests/test_design.py): engagement representative in expectation but drawn in
activities of heavy-tailed sizes flags a dimension in at most 1 run in 20 (0 of 60 on the demo geography, where
independent-draw intervals flagged localities in 60 of 60), and a group heard at half its rate is still found.

**Estimated denominators.** A population share known only within [s_low, s_high] gives the ratio interval
[p_low / s_high, p_high / s_low] (the respondent interval divided by the share's range: conservative, and it
reduces to the usual ratio interval when the range is a point); the test asks whether p could equal *any* share
in the range, so its p-value is taken at the range's nearer end.

**Many comparisons.** A flag needs (a) Holm's step-down rejection at 5% family-wise across the dimension's
groups (Holm 1979), so a perfectly represented engagement flags some group in at most 1 view in 20, and (b) a
gap big enough to matter: the ratio against the share range's nearer end outside a band (0.8–1.25 unless
pack.toml says otherwise). The 95% interval drawn stays unadjusted: it says what this engagement heard.
The test is the score test that Wilson's interval inverts, so a group whose 95% interval excludes 1 has a
per-group p-value under 0.05, and Holm then asks for more when there are many groups.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as sps

from analytics import stats

ALPHA = 0.05  # family-wise error rate for flags
BAND = (0.8, 1.25)  # a ratio inside this band is not a gap worth a flag, however precise


@dataclass(frozen=True)
class Units:
    """Who heard whom: `heard[g, a]` respondents of group g in activity a, `totals[a]` the activity's respondents
    in the table's base, `open_survey[a]` whether it is an open partnership-wide survey (a certainty stratum)."""
    heard: np.ndarray
    totals: np.ndarray
    open_survey: np.ndarray

    @classmethod
    def from_cells(cls, heard: pd.DataFrame, base: pd.DataFrame, keys: pd.DataFrame, dims: list[str]) -> Units:
        """`heard`: rows (dims…, activity_id, respondents) counted for the groups; `base`: rows (activity_id,
        open_survey, respondents) of everyone in the table's base. One row of `heard` per row of `keys` (the
        table's groups, in order; zero where unheard)."""
        acts = base.groupby("activity_id", sort=True).agg(n=("respondents", "sum"), open=("open_survey", "max"))
        matrix = np.zeros((len(keys), len(acts)))
        if len(heard) and len(keys):
            grid = heard.groupby([*dims, "activity_id"])["respondents"].sum().unstack("activity_id", fill_value=0)
            index = pd.MultiIndex.from_frame(keys[dims]) if len(dims) > 1 else pd.Index(keys[dims[0]])
            matrix = grid.reindex(index=index, columns=acts.index, fill_value=0).to_numpy(dtype=float)
        return cls(matrix, acts["n"].to_numpy(dtype=float), acts["open"].to_numpy(dtype=bool))

    @property
    def n(self) -> float:
        return float(self.totals.sum())


def _variance(units: Units, p: np.ndarray) -> np.ndarray:
    """Each group's linearised variance of its share, × N² (the module's docstring gives the formula)."""
    y, n, open_ = units.heard, units.totals, units.open_survey
    v = np.zeros(len(p))
    local = ~open_
    m = int(local.sum())
    z = y[:, local] - p[:, None] * n[local]
    if m > 1:
        v += m / (m - 1) * ((z - z.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    elif m == 1:  # a lone activity: its deviation from the whole, not from itself (R survey's lonely.psu "adjust")
        v += z[:, 0] ** 2
    for a in np.flatnonzero(open_ & (n > 1)):  # an open survey: a stratum whose units are its respondents
        ybar = y[:, a] / n[a]
        v += n[a] / (n[a] - 1) * n[a] * ybar * (1 - ybar)
    return v


def _degrees_of_freedom(units: Units, deff: float) -> float:
    """Satterthwaite's degrees of freedom over the strata: each open survey with its respondents less one, and
    the activities with their *effective* number less one. An activity of n people weighs n(1 + (n − 1)ρ) in
    the variance, with ρ the intra-activity correlation that gives the dimension's design effect (Kish's
    deff = 1 + (n̄ − 1)ρ); a few large activities then leave far fewer degrees of freedom than there are
    activities ((Σw)²/Σw², the "effective number of clusters" of Carter, Schnepel & Steigerwald 2017)."""
    n, open_ = units.totals, units.open_survey
    local, surveys = n[~open_], n[open_ & (n > 1)]
    pairs = float((local * (local - 1)).sum())
    rho = float(np.clip((deff * units.n - surveys.sum() - local.sum()) / pairs, 0, 1)) if pairs > 0 else 0.0
    w = local * (1 + (local - 1) * rho)
    parts, dfs = surveys, surveys - 1
    if w.sum() > 0:
        parts = np.append(parts, w.sum())
        dfs = np.append(dfs, max(w.sum() ** 2 / (w**2).sum() - 1, 1))
    return float(parts.sum() ** 2 / (parts**2 / dfs).sum()) if parts.sum() > 0 else np.inf


@dataclass(frozen=True)
class ShareDesign:
    """Per group: share p and design effect; for the dimension: its pooled design effect and degrees of
    freedom, respondents, activities counted as clusters and open surveys."""
    share: np.ndarray
    deff: np.ndarray
    pooled_deff: float
    df: float
    n: float
    activities: int
    open_surveys: int

    def rounded(self) -> ShareDesign:
        """The design as viewers may learn it (issue 18): design effects rounded up to one decimal and degrees of
        freedom down to a whole number (both only widen intervals), so they say nothing exact about one cell."""
        return replace(self, deff=np.ceil(np.round(self.deff * 10, 6)) / 10,
                       pooled_deff=float(np.ceil(round(self.pooled_deff * 10, 6)) / 10),
                       df=float(np.floor(self.df)) if np.isfinite(self.df) else self.df)


def share_design(units: Units) -> ShareDesign:
    """Design-based variance of every group's share of respondents (see the module's docstring). A group's own
    design effect is noisy, and low exactly when few large activities happened to reach it (so its share is
    low too: intervals then missed far more than 5% in simulation), so it never goes below the dimension's."""
    n = units.n
    g = units.heard.shape[0]
    clusters, opened = int((~units.open_survey).sum()), int(units.open_survey.sum())
    if n <= 0:
        return ShareDesign(np.zeros(g), np.ones(g), 1.0, np.inf, 0.0, clusters, opened)
    p = units.heard.sum(axis=1) / n
    v = _variance(units, p)
    srs = p * (1 - p) * n  # V_srs × N², on the scale of v
    pooled = max(float(v.sum() / srs.sum()), 1.0) if srs.sum() > 0 else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.where(srs > 0, v / np.where(srs > 0, srs, 1), pooled)
    return ShareDesign(p, np.maximum(own, pooled), pooled, _degrees_of_freedom(units, pooled), n, clusters, opened)


def _critical(df: float, alpha: float) -> float:
    """Student's t quantile for a two-sided level alpha (the normal's when df is infinite)."""
    return float(sps.norm.isf(alpha / 2) if np.isinf(df) else sps.t.isf(alpha / 2, df))


def effective_n(n: float, deff: np.ndarray, df: float, confidence: float = 0.95) -> np.ndarray:
    """N/deff × (z/t_df)²: the independent responses the clustered sample is worth for a `confidence` interval
    (Korn & Graubard's degrees-of-freedom adjustment)."""
    alpha = 1 - stats.normalise_confidence(confidence)
    return n / np.asarray(deff, dtype=float) * (_critical(np.inf, alpha) / _critical(df, alpha)) ** 2


def share_interval(heard: np.ndarray, n: float, deff: np.ndarray, df: float,
                   confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson interval of each share on its effective size ((0, 1) when nobody was heard at all)."""
    if n <= 0:
        return np.zeros(len(heard)), np.ones(len(heard))
    size = effective_n(n, deff, df, confidence)
    p = np.asarray(heard, dtype=float) / n
    return stats.wilson_interval(np.clip(p * size, 0, size), size, confidence)


def p_values(share: np.ndarray, n: float, deff: np.ndarray, df: float, low: np.ndarray,
             high: np.ndarray) -> np.ndarray:
    """Two-sided p-value of the score test that the share could equal a population share in [low, high]
    (1 where it lies inside), on the design's variance and degrees of freedom: the test whose 5% level the
    95% interval inverts."""
    near = np.clip(share, low, high)
    if n <= 0:
        return np.ones(len(share))
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(near * (1 - near) * deff / n)
        t = np.where(se > 0, np.abs(share - near) / se, np.where(share == near, 0.0, np.inf))
    tail = sps.norm.sf(t) if np.isinf(df) else sps.t.sf(t, df)
    return np.where(share == near, 1.0, np.minimum(2 * tail, 1.0))


def holm(p: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Holm's step-down: True where the hypothesis is rejected with family-wise error at most alpha."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    passed = p[order] <= alpha / (m - np.arange(m))
    stop = np.flatnonzero(~passed)
    keep = np.zeros(m, dtype=bool)
    keep[order[: stop[0] if stop.size else m]] = True
    return keep


def gap_ratio(share: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The share against the population share range's nearer end (1 inside it): the smallest gap consistent
    with the estimate."""
    near = np.clip(share, low, high)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(share == near, 1.0, share / near)


def band(meta: dict[str, str]) -> tuple[float, float]:
    """The pack's band of ratios too close to 1 to flag (`flag_ratio_low`, `flag_ratio_high` in pack.toml)."""
    return (float(meta.get("flag_ratio_low", BAND[0])), float(meta.get("flag_ratio_high", BAND[1])))
