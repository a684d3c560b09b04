"""How often each theme is mentioned by each group, and what sets a group's comments apart.

Prevalence: of the people in a group who left a comment, the share who mentioned the theme, with a 95% Wilson
interval. Both counts are counts of people, so both are published through the disclosure module's cell-key
protection first (withheld under the pack's threshold) and every share and interval is worked from the published
counts, never from the exact ones.

Distinctive themes: the weighted log-odds ratio with an informative Dirichlet prior of Monroe, Colaresi and Quinn
(2008, "Fightin' Words", Political Analysis 16(4): 372-403), with themes in place of words. For group g and theme w,
with y the people mentioning w in g, n the mentions in g (summed over themes), y', n' the same for everyone else and
a prior of a_w = A × (w's share of all mentions), A the prior's strength:
    δ = log((y + a_w) / (n + A − y − a_w)) − log((y' + a_w) / (n' + A − y' − a_w)),  var(δ) ≈ 1/(y + a_w) + 1/(y' + a_w)
and z = δ / √var(δ). The prior shrinks themes few people mention towards the overall mix, so a group's top theme is
one it raises more than others do, not one that a handful happened to mention.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.stats import wilson_interval

PRIOR_STRENGTH = 100.0  # A: the prior counts as this many mentions spread like all mentions
KEYS = ["source", "dimension", "grp"]


def prevalence(mentions: pd.DataFrame, commenters: pd.DataFrame) -> pd.DataFrame:
    """`mentions` (source, dimension, grp, theme, mentioned, withheld) and `commenters` (dimension, grp, commenters,
    withheld), both published counts (NaN where withheld). Returns mentions with commenters, share, share_low and
    share_high (0-1, NaN where either count is withheld); a theme withheld in a group keeps withheld = True."""
    people = commenters.rename(columns={"withheld": "group_withheld"})
    out = mentions.merge(people, on=["dimension", "grp"], how="left")
    n = out["commenters"].to_numpy(dtype=float)
    # Published counts carry a little noise, so a theme may show more people than the group: count it as all of them.
    s = np.minimum(out["mentioned"].to_numpy(dtype=float), n)
    ok = np.isfinite(s) & np.isfinite(n) & (n > 0)
    low, high = np.full(len(out), np.nan), np.full(len(out), np.nan)
    if ok.any():
        low[ok], high[ok] = wilson_interval(s[ok], n[ok])
    out["share"] = np.where(ok, s / np.where(ok, n, 1), np.nan)
    out["share_low"], out["share_high"] = low, high
    out["withheld"] = out["withheld"].astype(bool) | ~ok
    return out.drop(columns="group_withheld")


def log_odds(counts: pd.DataFrame, prior_strength: float = PRIOR_STRENGTH) -> pd.DataFrame:
    """Distinctive themes of each group against everyone else. `counts`: dimension, grp, theme, mentioned (published,
    NaN where withheld), with the whole partnership as dimension 'all'. Returns dimension, grp, theme, log_odds, z,
    rank (1 = most distinctive in the group) for the themes published in the group."""
    rows = []
    everyone = counts[counts["dimension"] == "all"].set_index("theme")["mentioned"].dropna()
    if everyone.sum() <= 0:
        return pd.DataFrame(columns=["dimension", "grp", "theme", "log_odds", "z", "rank"])
    prior = prior_strength * everyone / everyone.sum()
    for (dimension, grp), cells in counts[counts["dimension"] != "all"].groupby(["dimension", "grp"], sort=True):
        cells = cells.dropna(subset=["mentioned"])
        cells = cells[cells["theme"].isin(everyone.index)]
        if cells.empty:
            continue
        y = cells["mentioned"].to_numpy(dtype=float)
        rest = np.maximum(everyone.loc[cells["theme"]].to_numpy() - y, 0.0)
        a = prior.loc[cells["theme"]].to_numpy()
        delta, z = monroe(y, rest, a, prior_strength)
        rows.append(pd.DataFrame({"dimension": dimension, "grp": grp, "theme": cells["theme"].to_numpy(),
                                  "log_odds": delta, "z": z}))
    if not rows:
        return pd.DataFrame(columns=["dimension", "grp", "theme", "log_odds", "z", "rank"])
    out = pd.concat(rows, ignore_index=True).dropna(subset=["z"])
    if out.empty:
        return pd.DataFrame(columns=["dimension", "grp", "theme", "log_odds", "z", "rank"])
    out["rank"] = out.groupby(["dimension", "grp"])["z"].rank(ascending=False, method="first").astype(int)
    return out.sort_values(["dimension", "grp", "rank"]).reset_index(drop=True)


def monroe(y: np.ndarray, rest: np.ndarray, prior: np.ndarray, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Monroe et al.'s δ and z for one group: `y` its counts per theme, `rest` everyone else's, `prior` a_w (summing
    to `strength` over all themes)."""
    n, n_rest = y.sum(), rest.sum()
    with np.errstate(divide="ignore", invalid="ignore"):  # one theme alone has no other to contrast with: NaN
        group = np.log((y + prior) / (n + strength - y - prior))
        others = np.log((rest + prior) / (n_rest + strength - rest - prior))
        delta = group - others
        z = delta / np.sqrt(1.0 / (y + prior) + 1.0 / (rest + prior))
    fine = np.isfinite(delta) & np.isfinite(z)
    return np.where(fine, delta, np.nan), np.where(fine, z, np.nan)
