"""Community denominators from census tables per small area (Scotland's Census 2022, England's Census 2021).

A long table per small area (code, category, count, and a total where published) gives, per locality and for
the partnership: minority ethnic people, Gypsy/Travellers where the table has the category, and disabled
people. Each estimate is the census share of the locality's residents applied to its base-year population.

population_low / population_high combine two published sources of error, said in the row's source:
- perturbation: both censuses perturb cells for disclosure control. Its size is measured from the files
  themselves: the same residents' totals in two tables (or a table's parts against its total) differ only by
  perturbation, so the standard deviation per cell is estimated from those differences; a count summed over
  c cells in m areas varies by that × √(c·m); the range is ±2 standard deviations.
- the years between the census and the estimates: a community's share drifts; the range widens by
  DRIFT_PER_YEAR of the share per year (England's non-white share went from 14.6% in 2011 to 19.0% in 2021,
  about 3% of the share a year).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.config import ALL_LOCALITIES
from analytics.importers.communities import COMMUNITY_COLUMNS
from analytics.importers.errors import PackImportError, Report, list_codes
from analytics.importers.readers import code_column, find_column, is_text_column, numbers, read_table, squash

TOTAL = "__total__"
DRIFT_PER_YEAR = 0.03
SPREAD = 2.0  # standard deviations either side for perturbation


@dataclass
class CensusTable:
    """`wide`: index small-area code, one column per category, plus TOTAL (all residents in the table)."""

    wide: pd.DataFrame
    path: Path
    year: int
    measured_total: bool  # the file gave a total column (else TOTAL is the sum of top-level groups)


def census_year(path: Path, given: int | None) -> int:
    if given:
        return given
    match = re.search(r"census[ _-]?(20\d{2})", path.name, re.IGNORECASE)
    if match is None:
        raise PackImportError(f"Cannot tell which census the file {path.name} is from (no 'census2021' or "
                              "'census2022' in its name); give the year with --census-year.")
    return int(match[1])


def read_census(path: Path, prefix: str, zone_word: str, year: int | None = None) -> CensusTable:
    """A long census table: one row per small area × category, with a count and, if published, a total."""
    table = read_table(path, "census file")
    frame = table.frame
    zone = code_column(frame, prefix)
    if zone is None:
        raise PackImportError(f"The census file {path} has no column of {zone_word} codes ({prefix}…).")
    category = next((c for c in frame.columns if c != zone and is_text_column(frame[c])), None)
    count = next((c for c in frame.columns if squash(c) in ("n", "count", "observation", "value", "number")), None)
    if category is None or count is None:
        raise PackImportError(f"The census file {path} needs a category column and a count column (n, count or "
                              f"observation); its columns: {', '.join(map(str, frame.columns))}.")
    frame = frame[frame[category].str.strip().ne("") & ~frame[category].str.match(r"^\.\.\.\d+$")]
    frame = frame[frame[count].str.strip() != ""].reset_index(drop=True)  # source-table stray labels ("...27")
    frame[count] = numbers(frame, [count], f"census file {path.name}")[count]
    wide = frame.pivot_table(index=zone, columns=category, values=count, aggfunc="sum", fill_value=0)
    total = find_column(frame, "total")
    if total is not None:
        wide[TOTAL] = numbers(frame, [total], f"census file {path.name}")[total].groupby(frame[zone]).first()
    else:
        wide[TOTAL] = wide[_top_level(list(wide.columns))].sum(axis=1)
    wide.index = wide.index.str.strip()
    wide.columns.name = None
    return CensusTable(wide, path, census_year(path, year), total is not None)


def _top_level(labels: list[str]) -> list[str]:
    """Scotland's UV201 lists group totals ('White: Total') and their parts: the top level is the totals plus
    the groups without parts ('Mixed or multiple ethnic group'); 'Other White' belongs to 'White: Total'."""
    groups = [label.split(":")[0].strip() for label in labels if label.strip().endswith("Total")]
    top = [label for label in labels if label.strip().endswith("Total")]
    top += [label for label in labels if ":" not in label and label != TOTAL
            and not any(re.search(rf"\b{re.escape(g)}\b", label) for g in groups)]
    return top


def _is_white_total(label: str) -> bool:
    return label.strip().lower() in ("white", "white: total", "white total")


def definitions(labels: list[str]) -> dict[str, tuple[list[str], bool]]:
    """{key: (categories summed, subtract from total)} that this table allows."""
    out: dict[str, tuple[list[str], bool]] = {}
    white = [c for c in labels if _is_white_total(c)]
    if white:
        out["non_white"] = (white, True)
    majority = [c for c in labels if c.lower().startswith("white:") and re.search(r"scottish|british", c, re.I)]
    if majority:
        out["white_minorities"] = (majority, True)
    gypsy = [c for c in labels if "gypsy" in c.lower()]
    if gypsy:
        out["gypsy_traveller"] = (gypsy, False)
    disabled = [c for c in labels if re.search(r"disabled|limited", c, re.I)
                and not re.search(r"\bnot\b|^no\b", c, re.I)]
    if disabled:
        out["disabled"] = (disabled, False)
    return out


def cell_sd(tables: list[CensusTable]) -> tuple[float, str]:
    """Perturbation per cell, from differences that only perturbation makes; with how it was measured."""
    if len(tables) >= 2:
        a, b = tables[0].wide[TOTAL], tables[1].wide[TOTAL]
        both = a.index.intersection(b.index)
        if len(both):
            d = (a[both] - b[both]).to_numpy(dtype=float)
            return float(np.sqrt(np.mean(d ** 2) / 2)), (f"residents in the two tables differ by up to "
                                                          f"{np.abs(d).max():.0f} per area")
    for table in tables:
        parts = table.wide.drop(columns=TOTAL)
        if table.measured_total:
            top = _top_level(list(parts.columns)) or list(parts.columns)
            d = (parts[top].sum(axis=1) - table.wide[TOTAL]).to_numpy(dtype=float)
            if np.any(d):
                return float(np.sqrt(np.mean(d ** 2) / (len(top) + 1))), "a table's parts differ from its total"
    return 1.0, "no difference could be measured, so 1 person per cell is assumed"


def community_rows(table: CensusTable, key: str, labels: tuple[list[str], bool], name: str, kind: str, source: str,
                   persons: pd.Series, localities: pd.Series, base_year: int, sd: float) -> pd.DataFrame:
    """One community per locality and All. `persons`: base-year residents per small area (all ages)."""
    cats, subtract = labels
    wide = table.wide
    missing = set(localities.index) - set(wide.index)
    if missing:
        raise PackImportError(f"The census file {table.path.name} has no rows for {list_codes(missing)}; use the "
                              "table for every small area of the partnership.")
    counts = wide[TOTAL] - wide[cats].sum(axis=1) if subtract else wide[cats].sum(axis=1)
    cells = len(cats) + (1 if subtract else 0)
    gap = abs(base_year - table.year)
    frame = pd.DataFrame({"count": counts, "total": wide[TOTAL]}).reindex(localities.index)
    frame["persons"] = persons.reindex(localities.index).fillna(0)
    frame["locality"] = localities
    rows = []
    for locality, part in frame.groupby("locality", sort=True):
        rows.append(_estimate(part, cells, gap, sd, locality))
    whole = _estimate(frame, cells, gap, sd, ALL_LOCALITIES)
    whole[1] = sum(r[1] for r in rows)  # All = the localities summed, as the dashboard expects
    whole[2], whole[3] = min(whole[2], whole[1]), max(whole[3], whole[1])
    out = pd.DataFrame(rows + [whole], columns=["locality", "population", "population_low", "population_high"])
    text = (f"{source} (census {table.year}, mid-{base_year} residents; range: perturbation ±{SPREAD:g} SD at "
            f"{sd:.2f} per cell, and ±{DRIFT_PER_YEAR:.0%} of the share a year for {gap} year(s))")
    return out.assign(community=name, kind=kind, target_min="", source=text)[COMMUNITY_COLUMNS]


def _estimate(part: pd.DataFrame, cells: int, gap: int, sd: float, locality: str) -> list:
    count, total, persons = part["count"].sum(), part["total"].sum(), part["persons"].sum()
    share = count / total if total > 0 else 0.0
    estimate = share * persons
    noise = SPREAD * sd * np.sqrt(cells * len(part)) * (persons / total if total > 0 else 1.0)
    drift = DRIFT_PER_YEAR * gap * estimate
    low = max(0, int(np.floor(estimate - drift - noise)))
    high = int(np.ceil(estimate + drift + noise))
    point = int(np.floor(estimate + 0.5))
    return [locality, point, min(low, point), max(high, point)]


def replace_defaults(defaults: pd.DataFrame, census: list[pd.DataFrame], report: Report) -> pd.DataFrame:
    """The census rows in place of the national default shares of the same community; the rest kept."""
    if not census:
        return defaults
    new = pd.concat(census, ignore_index=True)
    replaced = sorted(set(defaults["community"]) & set(new["community"]))
    kept = defaults[~defaults["community"].isin(new["community"])]
    if replaced:
        report.note(f"Communities from the census replace the national default shares for: {', '.join(replaced)}.")
    return pd.concat([new, kept], ignore_index=True).astype({c: str for c in COMMUNITY_COLUMNS[3:7]})


# Community names and definitions per census. "Minority ethnic (non-white)" keeps the name of the national
# default share it replaces, so a ledger that names it still matches after a re-import.
NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "scotland": {
        "non_white": ("Minority ethnic (non-white)", "NRS Scotland's Census 2022 UV201 ethnic group: every group "
                      "except the White groups"),
        "white_minorities": ("Minority ethnic (incl. white minorities)", "NRS Scotland's Census 2022 UV201 ethnic "
                             "group: every group except White Scottish and Other White British (Scotland's usual "
                             "definition: includes White Irish, Polish, Gypsy/Traveller and Other White)"),
        "gypsy_traveller": ("Gypsy/Travellers", "NRS Scotland's Census 2022 UV201 ethnic group: White: "
                            "Gypsy/Traveller (the census is known to under-count Gypsy/Travellers)"),
        "disabled": ("People with a limiting long-term health problem or disability", "NRS Scotland's Census 2022 "
                     "long-term health problem or disability: day-to-day activities limited a lot or a little"),
    },
    "england": {
        "non_white": ("Minority ethnic (non-white)", "ONS Census 2021 TS021 ethnic group: Asian, Black, Mixed and "
                      "Other ethnic groups (the five-group table cannot separate White minorities)"),
        "white_minorities": ("Minority ethnic (incl. white minorities)", "ONS Census 2021 TS021 ethnic group: every "
                             "group except White: English, Welsh, Scottish, Northern Irish or British"),
        "gypsy_traveller": ("Gypsy/Travellers", "ONS Census 2021 TS021 ethnic group: White: Gypsy or Irish "
                            "Traveller (the census is known to under-count Gypsy and Traveller people)"),
        "disabled": ("Disabled people (Equality Act)", "ONS Census 2021 TS038 disability: disabled under the "
                     "Equality Act (day-to-day activities limited a lot or a little)"),
    },
}


def census_communities(tables: list[CensusTable], country: str, persons: pd.Series, localities: pd.Series,
                       base_year: int, report: Report) -> list[pd.DataFrame]:
    """Community rows from every definition the given census tables allow, with a note naming each definition.

    `tables` are already on the pack's small areas; `persons`: base-year residents per small area."""
    sd, how = cell_sd(tables)
    out, said = [], []
    for table in tables:
        for key, labels in definitions([c for c in table.wide.columns if c != TOTAL]).items():
            name, source = NAMES[country][key]
            out.append(community_rows(table, key, labels, name, "identity", source, persons, localities,
                                      base_year, sd))
            said.append(f"{name} = {source.split(': ', 1)[-1]}")
    if out:
        gap = abs(base_year - tables[0].year)
        report.note(f"Community denominators from the census ({', '.join(t.path.name for t in tables)}): "
                    + "; ".join(said) + f". Each is the census share of the locality's residents applied to its "
                    f"mid-{base_year} population. Its low and high estimates: ±{SPREAD:g} standard deviations of "
                    f"the census perturbation (measured as {sd:.2f} people per cell: {how}; a count of c cells over m areas "
                    f"varies by that × √(c·m)) plus ±{DRIFT_PER_YEAR:.0%} of the share for each of the {gap} year(s) "
                    f"between the census and the estimates.")
    return out
