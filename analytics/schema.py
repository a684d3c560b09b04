"""The data contract (../shared/SCHEMA.md) in code: column types, allowed values, row-level problems.

Every check reports *where* (file, row, column), *what* (the value) and *what would be accepted*, so that
the person who prepared the file can fix it without reading code. Row numbers are spreadsheet line numbers:
the header is line 1, the first data row is line 2.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analytics import config

# A file with thousands of bad rows is still reported in full as a count; only this many are spelt out
# per (file, column, kind of problem) so the list stays readable.
MAX_ROWS_SPELT_OUT = 20

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Issue 19: the bounds every count, year and number must keep (packs, uploads and importers share this check).
# A count or rate past them (inf, 1e30, 2**63) passed "whole and 0 or more" and then crashed the store build
# (int64 overflow) or a page (inf in a sum). No partnership's count comes near a billion.
COUNT_MAX = 1_000_000_000
NUMBER_MAX = 1_000_000  # rates per person and relative rates are small; a million leaves room and no overflow
YEAR_MIN, YEAR_MAX = 1900, 2100
# Issue 19: a response may be dated this many days after its activity's end_date (a late paper return, a survey
# left open a little longer), but never before its start_date.
RESPONSE_GRACE_DAYS = 31
# Issue 19: characters that look like nothing (zero-width, direction marks, controls), so "R1" and "R1\u200b" look
# the same: Unicode categories Cc (control) and Cf (format). Look-alikes (full-width letters, ligatures) are the
# characters NFKC normalisation changes.
HIDDEN_CATEGORIES = ("Cc", "Cf")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, in words a non-programmer can act on."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        shown = "" if self.value is None else f": value '{self.value}'"
        return f"{where}{shown} — {self.message}"


class PackInvalid(Exception):
    """The pack or ledger breaks the contract; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) found; nothing was loaded:\n{lines}")


@dataclass(frozen=True)
class Column:
    """A column of the contract. `kind` decides the check: code, text, count, number, year, date, enum, list."""

    name: str
    kind: str = "text"
    required: bool = True  # the column must be present
    blank_ok: bool = False  # an empty cell is allowed
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # columns that identify a row: duplicates are refused
    required: bool = True
    table: str = field(default="")

    @property
    def table_name(self) -> str:
        return self.table or self.name.removesuffix(".csv")


C = Column
DOMAINS = ("income", "employment", "health", "education", "access", "crime", "housing")
SEX = C("sex", "enum", allowed=config.SEXES)
AGE = C("age_band", "enum", allowed=config.AGE_BANDS)

# Issue 22: what people said and what was done about it (all optional ledger files, uploadable like the others).
CONSENT_TO_QUOTE = ("yes", "no")
ACTION_STATUSES = ("planned", "in_progress", "done", "not_taken")
STORY_CONSENT = ("public", "board_only", "withdrawn")
_LIST = {"kind": "list", "blank_ok": True}
INSIGHT_FILES: tuple[FileSpec, ...] = (
    FileSpec("comments.csv", (C("response_id", "code"), C("question", blank_ok=True), C("text"),
                              C("consent_to_quote", "enum", allowed=CONSENT_TO_QUOTE)),
             key=("response_id", "question"), required=False),
    FileSpec("insights.csv", (C("insight_id", "code"), C("activity_id", "code", required=False, blank_ok=True),
                              C("title"), C("summary"), C("published_on", "date"), C("locality"),
                              C("communities", **_LIST), C("priorities", **_LIST), C("themes", **_LIST),
                              C("source", blank_ok=True), C("link", required=False, blank_ok=True)),
             key=("insight_id",), required=False),
    FileSpec("actions.csv", (C("action_id", "code"), C("insight_ids", "list"), C("decision"), C("owner"),
                             C("status", "enum", allowed=ACTION_STATUSES), C("reason", blank_ok=True),
                             C("reported_back_on", "date", blank_ok=True)),
             key=("action_id",), required=False),
    FileSpec("stories.csv", (C("story_id", "code"), C("title"), C("summary"), C("teller"),
                             C("communities", **_LIST), C("locality"), C("priorities", **_LIST),
                             C("consent", "enum", allowed=STORY_CONSENT), C("media", required=False, blank_ok=True),
                             C("told_on", "date")),
             key=("story_id",), required=False),
)
# The theme codebook (theme → phrases) an editor keeps; optional, in the pack (the built-in one is used without it).
CODEBOOK = FileSpec("codebook.csv", (C("theme"), C("phrases", "list")), key=("theme",), required=False)

PACK_FILES: tuple[FileSpec, ...] = (
    FileSpec("population.csv", (C("area_code", "code"), SEX, AGE, C("population", "count")),
             key=("area_code", "sex", "age_band")),
    FileSpec("deprivation.csv", (C("area_code", "code"), C("rank", "count"), C("decile", "count"),
                                 C("quintile", "count"),
                                 *(C(f"{d}_rank", "count", required=False, blank_ok=True) for d in DOMAINS)),
             key=("area_code",)),
    FileSpec("projections.csv", (C("geography"), C("variant", "code"), C("year", "year"), SEX, AGE,
                                 C("population", "count")),
             key=("geography", "variant", "year", "sex", "age_band")),
    FileSpec("communities.csv", (C("community"), C("kind", "enum", allowed=config.COMMUNITY_KINDS),
                                 C("locality"), C("population", "count", blank_ok=True),
                                 C("population_low", "count", required=False, blank_ok=True),
                                 C("population_high", "count", required=False, blank_ok=True),
                                 C("target_min", "count", required=False, blank_ok=True),
                                 C("source", blank_ok=True)),
             key=("community", "locality")),
    FileSpec("need_indicators.csv", (C("indicator", "code"), C("label"), SEX, AGE, C("rate", "number"),
                                     C("unit"), C("source")), key=("indicator", "sex", "age_band")),
    FileSpec("need_gradient.csv", (C("indicator", "code"), C("quintile", "count"),
                                   C("relative_rate", "number")), key=("indicator", "quintile"),
             required=False),
    FileSpec("priorities.csv", (C("code", "code"), C("label")), key=("code",), required=False),
    CODEBOOK,
)

LEDGER_FILES: tuple[FileSpec, ...] = (
    FileSpec("activities.csv", (C("activity_id", "code"), C("title"), C("method", "enum", allowed=config.METHODS),
                                C("partner"), C("start_date", "date"), C("end_date", "date"), C("locality"),
                                C("area_code", "code", required=False, blank_ok=True),
                                C("mode", "enum", allowed=config.MODES), C("participants", "count"),
                                C("communities", "list", blank_ok=True)), key=("activity_id",)),
    FileSpec("responses.csv", (C("response_id", "code"), C("activity_id", "code"), C("submitted_on", "date"),
                               C("area_code", "code", blank_ok=True),
                               C("sex", "enum", blank_ok=True, allowed=config.RESPONSE_SEXES),
                               C("age_band", "enum", blank_ok=True, allowed=config.AGE_BANDS),
                               C("communities", "list", blank_ok=True),
                               C("priorities", "list", blank_ok=True)), key=("response_id",)),
    FileSpec("panel.csv", (C("member_id", "code"), C("area_code", "code"), SEX,
                           C("age_band", "enum", allowed=config.AGE_BANDS), C("communities", "list", blank_ok=True),
                           C("joined_on", "date"), C("status", "enum", allowed=("active", "left"))),
             key=("member_id",), required=False),
    *INSIGHT_FILES,
)

ALL_FILES: tuple[FileSpec, ...] = PACK_FILES + LEDGER_FILES


def read_csv(path: Path, spec: FileSpec) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a contract file as text (codes keep leading zeros; blanks stay ''), checking header and encoding."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(spec.name, f"is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'")]
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        return None, [Problem(spec.name, f"cannot be read as comma-separated values with a header row ({exc})")]
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    if missing:
        expected = ", ".join(c.name for c in spec.columns)
        return None, [Problem(spec.name, f"the column is missing; the file needs the columns: {expected}", column=m)
                      for m in missing]
    return frame, check_frame(frame, spec)


def check_frame(frame: pd.DataFrame, spec: FileSpec) -> list[Problem]:
    """Type and allowed-value checks for every present column, then duplicate keys."""
    problems: list[Problem] = []
    for column in spec.columns:
        if column.name in frame.columns:
            bad, expected = _bad_cells(frame[column.name].str.strip(), column)
            problems += spell_out(spec.name, column.name, frame, bad, f"expected {expected}")
            if column.kind == "code":
                problems += hidden_character_problems(spec.name, frame, column.name)
    if spec.key and all(k in frame.columns for k in spec.key):
        dup = frame.duplicated(list(spec.key), keep="first")
        what = " + ".join(spec.key)
        problems += spell_out(spec.name, spec.key[0], frame, dup,
                               f"duplicate {what}: each must appear once (remove the repeated row)")
    return problems


def _bad_cells(values: pd.Series, column: Column) -> tuple[pd.Series, str]:
    """A boolean mask of cells that break the column's rule, and what would be accepted."""
    blank = values == ""
    if column.kind in ("count", "year"):
        low, high = (0, COUNT_MAX) if column.kind == "count" else (YEAR_MIN, YEAR_MAX)
        numeric = _numbers(values)
        ok = _within(numeric, low, high) & (numeric == numeric.round())
        expected = (f"a whole number of 0 or more, up to {COUNT_MAX:,} (not a decimal, inf or an exponent past "
                    "it)" if column.kind == "count" else f"a year such as 2024 (from {YEAR_MIN} to {YEAR_MAX})")
    elif column.kind == "number":
        numeric = _numbers(values)
        ok = _within(numeric, 0, NUMBER_MAX)
        expected = f"a number of 0 or more (use . for decimals), up to {NUMBER_MAX:,}; not inf or nan"
    elif column.kind == "date":
        # Issue 19: 0001-01-01 (from a timestamp) passed and widened every viewer's default period to 0001…9999.
        years = pd.to_numeric(values.str[:4].where(values.str.match(_DATE), None), errors="coerce")
        parsed = pd.to_datetime(values.where(values.str.match(_DATE), None), format="%Y-%m-%d", errors="coerce")
        ok = parsed.notna() & (years >= YEAR_MIN) & (years <= YEAR_MAX)
        expected = f"a date written YYYY-MM-DD, such as 2025-03-31, from {YEAR_MIN} to {YEAR_MAX}"
    elif column.kind == "enum":
        ok = values.isin(column.allowed)
        expected = "one of: " + ", ".join(column.allowed)
    else:
        ok = ~blank
        expected = "a value (this cell must not be empty)"
    if column.blank_ok:
        ok = ok | blank
        expected += ", or blank"
    return ~ok, expected


def _numbers(values: pd.Series) -> pd.Series:
    """Cells as floats (NaN where not a number); digits past int64 come back as floats too, not as an error."""
    return pd.to_numeric(values, errors="coerce").astype(float)


def _within(numeric: pd.Series, low: float, high: float) -> pd.Series:
    """Finite (not inf or nan) and from `low` to `high`."""
    return pd.Series(np.isfinite(numeric.to_numpy()), index=numeric.index) & (numeric >= low) & (numeric <= high)


def _hidden(char: str) -> bool:
    """Invisible (control or format) or a look-alike (changed by NFKC)."""
    return unicodedata.category(char) in HIDDEN_CATEGORIES or unicodedata.normalize("NFKC", char) != char


def hidden_character(value: str) -> str | None:
    """'U+200B ZERO WIDTH SPACE at character 3' for the first invisible (control or format) or look-alike
    (changed by NFKC) character of `value`; None when it has none."""
    for position, char in enumerate(value, start=1):
        if _hidden(char):
            name = unicodedata.name(char, "a control character")
            return f"U+{ord(char):04X} {name} at character {position}"
    return None


def shown_visibly(value: str) -> str:
    """The value with each invisible or look-alike character written as <U+XXXX>, so a message can show it."""
    return "".join(f"<U+{ord(c):04X}>" if _hidden(c) else c for c in value)


def hidden_character_problems(file: str, frame: pd.DataFrame, column: str) -> list[Problem]:
    """Ids and codes with a character that is invisible (zero-width, a direction mark, a control) or a look-alike
    (full-width letters, ligatures): two such ids look identical on screen but are different values."""
    values = frame[column].astype(str).str.strip()  # surrounding spaces are dropped when the value is read
    unusual = values.str.contains(r"[^\x20-\x7e]", regex=True)  # printable ASCII needs no closer look
    bad = pd.Series(False, index=values.index)
    bad[unusual] = values[unusual].map(lambda v: hidden_character(v) is not None)
    return spell_out(file, column, frame, bad, "an invisible or look-alike character in an id or code", lambda i: (
        f"holds an invisible or look-alike character ({hidden_character(values[i])}); an id or code must be plain "
        "visible text, so retype it without that character", shown_visibly(values[i])))


def whole_number_problem(file: str, key: str, value: object, low: int, high: int, hint: str = "") -> Problem | None:
    """A setting (pack.toml) that must be a whole number from `low` to `high`; true/false and quoted numbers are
    refused, as TOML's true is a bool, not 1."""
    if type(value) is int and low <= value <= high:
        return None
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    return Problem(file, f"expected a whole number, without quotes, from {low} to {high}{hint}", column=key,
                   value=shown)


def spell_out(file: str, column: str, frame: pd.DataFrame, bad: pd.Series, message: str,
               each: Callable[[object], tuple[str, str]] | None = None) -> list[Problem]:
    """Turn a mask of bad rows into Problems, spelling out the first few and counting the rest. `each(row label)`
    gives a row's own (message, value) where they say more than `message` and the cell."""
    def spelt(i: object) -> Problem:
        text, value = each(i) if each else (message, str(frame.at[i, column]))
        return Problem(file, text, row=int(i) + 2, column=column, value=value)
    rows = list(bad[bad].index)
    problems = [spelt(i) for i in rows[:MAX_ROWS_SPELT_OUT]]
    if len(rows) > MAX_ROWS_SPELT_OUT:
        problems.append(Problem(file, f"… and {len(rows) - MAX_ROWS_SPELT_OUT} more rows like this ({message})",
                                column=column))
    return problems


def reference_problems(file: str, frame: pd.DataFrame, column: str, known: set[str], what: str,
                       allow: tuple[str, ...] = ()) -> list[Problem]:
    """Cells (or ';'-separated items) that point at nothing: an unknown area, locality, community or id."""
    if column not in frame.columns:
        return []
    values = frame[column].str.strip()
    items = values.str.split(";")
    ok_items = set(known) | set(allow) | {""}
    bad = items.map(lambda xs: any(x.strip() not in ok_items for x in xs))
    listed = sorted(known | set(allow))
    hint = ", ".join(listed[:12]) + (f" … ({len(listed)} in all)" if len(listed) > 12 else "")
    return spell_out(file, column, frame, bad, f"expected a known {what}: {hint}")


def split_list(values: pd.Series) -> pd.Series:
    """';'-separated cell → list of stripped, non-empty items."""
    return values.fillna("").str.split(";").map(lambda xs: [x.strip() for x in xs if x.strip()])
