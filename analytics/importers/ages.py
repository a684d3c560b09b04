"""Age labels as published ('0', '90+', 'age_0_4', '0 to 15', '75 and over', 'Age 90+') → the pack's bands.

A span is (low, high) in whole years, high None for open-ended ('90+'). Ages are held as single years 0…90
where 90 means 90 and over, so any published grouping can be summed into, or split across, the pack's bands.
"""
from __future__ import annotations

import re

import numpy as np

from analytics.config import AGE_BANDS
from analytics.importers.errors import ScotlandImportError

Span = tuple[int, int | None]
TOP_AGE = 90  # single-year index of the open band '90+'
AGES = np.arange(TOP_AGE + 1)
BAND_OF_AGE = np.minimum(AGES // 5, len(AGE_BANDS) - 1)  # age → index into AGE_BANDS

_OPEN = re.compile(r"^(\d+)\s*(?:\+|plus|and over|and older|or over|or older|over)$")
_RANGE = re.compile(r"^(\d+)\s*(?:-|–|to|\s)\s*(\d+)$")
_UNDER = re.compile(r"^(?:under|less than|below)\s*(\d+)$")


def parse_age(label: object) -> Span | None:
    """'age_0_4' → (0, 4); '90+' → (90, None); '0 to 15' → (0, 15); 'All ages' or 'total' → None."""
    text = str(label).strip().lower()
    text = re.sub(r"^(?:all_people|people|persons|female|male|females|males)_", "", text)
    text = re.sub(r"\b(?:ages?|aged|years?|yrs?)\b", " ", text.replace("_", " "))
    text = re.sub(r"\s+", " ", text).strip()
    for pattern, make in ((_OPEN, lambda m: (int(m[1]), None)),
                          (_RANGE, lambda m: (int(m[1]), int(m[2]))),
                          (_UNDER, lambda m: (0, int(m[1]) - 1))):
        match = pattern.match(text)
        if match:
            span = make(match)
            return span if span[1] is None or span[1] >= span[0] else None
    return (int(text), int(text)) if text.isdigit() and int(text) < 130 else None


def width(span: Span) -> float:
    return float("inf") if span[1] is None else span[1] - span[0] + 1


def partition(spans: dict[str, Span], what: str) -> dict[str, Span]:
    """Pick the finest non-overlapping labels covering age 0 upwards (drops totals such as 'age_0_15').

    Without an open-ended label, the last one is taken as open-ended (NRS writes 90 for '90 and over').
    """
    chosen: dict[str, Span] = {}
    age = 0
    while True:
        starting = [(width(s), label) for label, s in spans.items() if s[0] == age]
        if not starting:
            break
        _, label = min(starting)
        chosen[label] = spans[label]
        if spans[label][1] is None:
            return chosen
        age = spans[label][1] + 1
    if not chosen or age <= 85:
        found = ", ".join(list(spans)[:12])
        raise ScotlandImportError(f"The {what} does not cover every age from 0 up: after age {age - 1} no age "
                                  f"column or group starts at {age}. Age labels found: {found or 'none'}.")
    last = list(chosen)[-1]
    chosen[last] = (chosen[last][0], None)
    return chosen


def ages_of(span: Span) -> np.ndarray:
    """Single-year indices a span covers (90 stands for 90 and over)."""
    low = min(span[0], TOP_AGE)
    high = TOP_AGE if span[1] is None else min(span[1], TOP_AGE)
    return np.arange(low, high + 1)


def band_of(span: Span) -> str | None:
    """The pack band holding the whole span, or None when it cuts across bands."""
    bands = {int(BAND_OF_AGE[a]) for a in ages_of(span)}
    return AGE_BANDS[bands.pop()] if len(bands) == 1 else None


def base_ages(base: str) -> np.ndarray:
    """A community's base: 'all' → every age; '16+' → ages 16 and over; '65-74' → those ages."""
    text = str(base).strip().lower()
    if text in ("all", "all ages", "total", ""):
        return AGES
    span = parse_age(text)
    if span is None:
        raise ScotlandImportError(f"The community base '{base}' is not understood; write all, 16+ or 65-74.")
    return ages_of(span)


def band_order(band: str) -> int:
    return AGE_BANDS.index(band)

