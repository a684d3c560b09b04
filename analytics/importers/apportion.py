"""Projections in published groups → the pack's sex × five-year bands, and whole numbers that keep totals.

A published figure for a sex (or persons) and an age group is shared over the pack's cells it covers in
proportion to the council's base-year estimates for those single years of age and sexes. Single years by
sex need no estimate: they are summed into bands exactly. Each year's total is kept exactly as published.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.config import AGE_BANDS
from analytics.importers import ages
from analytics.importers.projections import Projection

METHODS = {(False, False): "published", (True, False): "apportioned_age",
           (False, True): "apportioned_sex", (True, True): "apportioned_age_sex"}


def shares(spans: dict[str, ages.Span], weights: pd.DataFrame) -> pd.DataFrame:
    """For each (sex F/M/All, label): the share going to each (out_sex, age_band), with method flags.

    `weights`: council base-year estimates, index F/M, columns single ages 0…90.
    """
    rows = []
    for label, span in spans.items():
        years = ages.ages_of(span)
        split_age = ages.band_of(span) is None
        for sex in ("F", "M", "All"):
            out_sexes = ["F", "M"] if sex == "All" else [sex]
            block = weights.loc[out_sexes, years].to_numpy(dtype=float)
            if block.sum() <= 0:
                block = np.ones_like(block)
            block = block / block.sum()
            for i, out_sex in enumerate(out_sexes):
                per_band = pd.Series(block[i]).groupby(ages.BAND_OF_AGE[years]).sum()
                rows += [(sex, label, out_sex, AGE_BANDS[b], share, split_age, sex == "All")
                         for b, share in per_band.items()]
    return pd.DataFrame(rows, columns=["sex", "label", "out_sex", "age_band", "share", "split_age", "split_sex"])


def to_bands(projection: Projection, variant: str, weights: pd.DataFrame) -> pd.DataFrame:
    """year, sex, age_band, population (fractional), method — one variant in the pack's cells."""
    rows = projection.rows[projection.rows["variant"] == variant]
    joined = rows.merge(shares(projection.spans, weights), on=["sex", "label"], how="inner")
    joined["population"] = joined["population"] * joined["share"]
    cells = joined.groupby(["year", "out_sex", "age_band"], as_index=False).agg(
        population=("population", "sum"), split_age=("split_age", "any"), split_sex=("split_sex", "any"))
    cells["method"] = [METHODS[(a, s)] for a, s in zip(cells["split_age"], cells["split_sex"])]
    return cells.rename(columns={"out_sex": "sex"})[["year", "sex", "age_band", "population", "method"]]


def rescale(cells: pd.DataFrame, base_year: int, estimates: pd.DataFrame) -> pd.DataFrame:
    """Growth ratios from the base year applied to the estimates (optional, --rescale-projections).

    `estimates`: population by sex × age_band (columns sex, age_band, population) for the council.
    """
    base = cells[cells["year"] == base_year].set_index(["sex", "age_band"])["population"]
    target = estimates.set_index(["sex", "age_band"])["population"]
    factor = (target / base.where(base > 0)).fillna(1.0)
    keyed = cells.set_index(["sex", "age_band"])
    keyed["population"] = keyed["population"] * factor.reindex(keyed.index).fillna(1.0).to_numpy()
    keyed["method"] = keyed["method"] + "_rescaled"
    return keyed.reset_index()[cells.columns]


def whole_numbers(cells: pd.DataFrame) -> pd.DataFrame:
    """Round each year's cells to whole people so that the year's total is the rounded published total."""
    out = []
    for _, year in cells.groupby("year", sort=True):
        year = year.sort_values(["sex", "age_band"]).copy()
        target = int(round(year["population"].sum()))
        floor = np.floor(year["population"].to_numpy() + 1e-9)
        short = target - int(floor.sum())
        remainder = year["population"].to_numpy() - floor
        order = np.argsort(-remainder, kind="stable")
        floor[order[:max(short, 0)]] += 1
        year["population"] = floor.astype(int)
        out.append(year)
    return pd.concat(out, ignore_index=True)
