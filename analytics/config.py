"""Paths, thresholds and environment variables, in one place."""
from __future__ import annotations

import functools
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_PACK = ROOT / "data" / "demo"

# Age bands of the data contract, in order; a band's lower bound is its first number.
AGE_BANDS: tuple[str, ...] = tuple(f"{a}-{a + 4}" for a in range(0, 90, 5)) + ("90+",)
SEXES: tuple[str, ...] = ("F", "M")
RESPONSE_SEXES: tuple[str, ...] = ("F", "M", "X")
METHODS: tuple[str, ...] = (
    "online_survey", "paper_survey", "focus_group", "interview",
    "meeting", "presentation", "event", "other",
)
SURVEY_METHODS: tuple[str, ...] = ("online_survey", "paper_survey")
MODES: tuple[str, ...] = ("in_person", "virtual", "hybrid", "remote")
COUNTRIES: tuple[str, ...] = ("scotland", "england", "wales", "other")
COMMUNITY_KINDS: tuple[str, ...] = ("identity", "interest")
ALL_LOCALITIES = "All"
DEFAULT_SUPPRESS_BELOW = 5


def band_lower(band: str) -> int:
    """Lower age of a band: '65-69' -> 65, '90+' -> 90."""
    return int(band.rstrip("+").split("-")[0])


def pack_dir() -> Path:
    """The area pack the dashboard shows: $REACH_PACK, else the demonstration pack."""
    return _resolved(os.environ.get("REACH_PACK", str(DEMO_PACK)), os.getcwd())


def db_path() -> Path:
    """The DuckDB store file: $REACH_DB, else a file named for the pack under data/."""
    explicit = os.environ.get("REACH_DB")
    if explicit:
        return _resolved(explicit, os.getcwd())
    return ROOT / "data" / f"{pack_dir().name}.duckdb"


@functools.lru_cache(maxsize=64)
def _resolved(path: str, cwd: str) -> Path:
    """An absolute path, remembered: pages ask for the store's path on every cached look-up, and resolving
    it walks the file system each time."""
    return Path(path).resolve()


def public_url() -> str | None:
    """$REACH_PUBLIC_URL: the address phones in the hall should open (shown as a QR code in presentation mode)."""
    return os.environ.get("REACH_PUBLIC_URL") or None
