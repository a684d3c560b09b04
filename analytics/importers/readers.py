"""Reading published tables whatever their format: CSV or XLSX, title rows above the header, sheets per sex.

Everything is read as text (codes keep their leading zeros); callers convert the columns they use with
`numbers`, which says which cells are not numbers instead of silently turning them into gaps.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analytics.importers.errors import ScotlandImportError

HEADER_SEARCH_ROWS = 30
SEX_SHEETS = {"female": "Female", "females": "Female", "male": "Male", "males": "Male",
              "persons": "All", "all": "All", "all persons": "All", "people": "All"}


@dataclass
class Table:
    """A table as read: `frame` holds text cells; `preamble` the title lines above the header row."""

    frame: pd.DataFrame
    path: Path
    preamble: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.path.name


def squash(name: object) -> str:
    """Column name without case or punctuation: 'Data_Zone' and 'DataZone' both → 'datazone'."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def read_table(path: Path, what: str) -> Table:
    """Read a CSV or XLSX file (`what` names it in messages: 'SIMD file')."""
    path, sheet = _split_sheet(Path(path))
    if not path.is_file():
        raise ScotlandImportError(f"The {what} {path} does not exist; check the path.")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_workbook(path, sheet, what)
    if suffix in (".csv", ".txt", ".tsv"):
        rows = _read_csv_rows(path, what)
        frame, preamble = _frame_from_rows(rows, path, what)
        assert frame is not None  # an empty file raised above
        return Table(frame, path, preamble)
    raise ScotlandImportError(f"The {what} {path} is a '{suffix}' file; give a .csv or .xlsx file.")


def _split_sheet(path: Path) -> tuple[Path, str | None]:
    """'tables.xlsx#Persons' names one sheet of a workbook."""
    text = str(path)
    if "#" in text and not path.exists():
        file, sheet = text.rsplit("#", 1)
        return Path(file), sheet
    return path, None


def _read_csv_rows(path: Path, what: str) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = path.read_text(encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = text[:20000]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    try:
        return [row for row in csv.reader(text.splitlines(), delimiter=delimiter)]
    except csv.Error as exc:
        raise ScotlandImportError(f"The {what} {path} cannot be read as CSV ({exc}).") from exc


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    return str(value).strip()


def _read_workbook(path: Path, sheet: str | None, what: str) -> Table:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or mislabelled file
        raise ScotlandImportError(f"The {what} {path} cannot be opened as an Excel workbook ({exc}).") from exc
    names = [sheet] if sheet else book.sheetnames
    if sheet and sheet not in book.sheetnames:
        raise ScotlandImportError(f"The {what} {path} has no sheet '{sheet}'; "
                                  f"its sheets: {', '.join(book.sheetnames)}.")
    tables: dict[str, Table] = {}
    for name in names:
        rows = [[_cell_text(v) for v in row] for row in book[name].iter_rows(values_only=True)]
        if sum(1 for r in rows if any(r)) >= 2:
            frame, preamble = _frame_from_rows(rows, path, what, quiet=True)
            if frame is not None and len(frame.columns) >= 2 and len(frame):
                tables[name] = Table(frame, path, preamble)
    book.close()
    if not tables:
        raise ScotlandImportError(f"The {what} {path} has no sheet with a header row and data rows.")
    return _pick_sheets(tables)


def _pick_sheets(tables: dict[str, Table]) -> Table:
    """Sheets named for sexes (Persons, Females, Males) are stacked with a `sex` column; else the largest sheet."""
    by_sex = {n: t for n, t in tables.items() if n.strip().lower() in SEX_SHEETS}
    if len(by_sex) >= 2 and not any("sex" == squash(c) for t in by_sex.values() for c in t.frame.columns):
        frames = [t.frame.assign(sex=SEX_SHEETS[n.strip().lower()]) for n, t in by_sex.items()]
        first = next(iter(by_sex.values()))
        return Table(pd.concat(frames, ignore_index=True).fillna(""), first.path, first.preamble)
    return max(tables.values(), key=lambda t: t.frame.shape[0] * t.frame.shape[1])


def _frame_from_rows(rows: list[list[str]], path: Path, what: str,
                     quiet: bool = False) -> tuple[pd.DataFrame | None, list[str]]:
    """Find the header row (the first one as wide as the table), and build a text frame below it."""
    rows = [[c.strip() for c in r] for r in rows]
    filled = [sum(1 for c in r if c) for r in rows[:HEADER_SEARCH_ROWS]]
    if not filled or max(filled) == 0:
        if quiet:
            return None, []
        raise ScotlandImportError(f"The {what} {path} is empty.")
    widest = max(filled)
    header_at = next(i for i, n in enumerate(filled) if n >= max(1, widest - 1))
    header = _unique_names(rows[header_at])
    body = [(r + [""] * len(header))[: len(header)] for r in rows[header_at + 1:]]
    keep = [r for r in body if sum(1 for c in r if c) > (1 if len(header) >= 3 else 0)]
    frame = pd.DataFrame(keep, columns=header, dtype=str)
    frame = frame.loc[:, [c for c in frame.columns if not c.startswith("_blank")]]
    preamble = [" ".join(c for c in r if c) for r in rows[:header_at] if any(r)]
    return frame, preamble


def _unique_names(header: list[str]) -> list[str]:
    names, seen = [], {}
    for i, name in enumerate(header):
        name = name or f"_blank{i}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
    return names


def code_column(frame: pd.DataFrame, prefix: str) -> str | None:
    """The column whose values look like statistical codes (`S01` → data zones, `S02` → intermediate zones)."""
    pattern = rf"^{prefix}\d{{6}}$"
    best, best_share = None, 0.0
    for column in frame.columns:
        values = frame[column].astype(str).str.strip()
        values = values[values != ""]
        if len(values):
            share = values.head(2000).str.match(pattern).mean()
            if share > max(best_share, 0.9):
                best, best_share = column, share
    return best


def find_column(frame: pd.DataFrame, *needles: str, exclude: tuple[str, ...] = ()) -> str | None:
    """The first column whose squashed name contains every needle and none of `exclude`."""
    for column in frame.columns:
        name = squash(column)
        if all(n in name for n in needles) and not any(x in name for x in exclude):
            return column
    return None


def is_text_column(values: pd.Series) -> bool:
    """Mostly non-blank, not numbers, not statistical codes, not true/false flags."""
    values = values.astype(str).str.strip()
    filled = values[values != ""]
    if len(filled) < 0.5 * max(len(values), 1):
        return False
    sample = filled.head(2000)
    numeric = pd.to_numeric(sample.str.replace(",", ""), errors="coerce").notna().mean()
    coded = sample.str.match(r"^[A-Z]\d{8}$").mean()
    flags = sample.str.lower().isin(["true", "false", "yes", "no", "0", "1"]).mean()
    return numeric < 0.5 and coded < 0.5 and flags < 0.5


def numbers(frame: pd.DataFrame, columns: list[str], what: str) -> pd.DataFrame:
    """Convert columns to numbers (thousands separators allowed); list the first cells that are not numbers."""
    out = frame[columns].apply(lambda s: s.astype(str).str.strip().str.replace(",", "", regex=False))
    converted = out.apply(pd.to_numeric, errors="coerce")
    bad = converted.isna()
    if bad.to_numpy().any():
        where = [f"row {i + 2}, column '{c}': '{frame.at[i, c]}'" for c in columns
                 for i in bad.index[bad[c]][:3]][:8]
        raise ScotlandImportError(f"The {what} has {int(bad.to_numpy().sum())} cell(s) that are not numbers, "
                                  f"e.g. {'; '.join(where)}. Fill them in (0 where there is nobody).")
    return converted


def year_from_text(texts: list[str]) -> int | None:
    """A year in titles or a file name ('Mid-2020', 'sape2020'), ignoring 'datazone2011'-style vintages."""
    mids = {int(y) for t in texts for y in re.findall(r"mid[ _-]?((?:19|20)\d{2})", t, flags=re.IGNORECASE)}
    if len(mids) == 1:
        return mids.pop()
    found: set[int] = set()
    vintage = r"(?:datazone|data[ _]zone|dz|intzone|intermediate[ _]zone|iz|council|ca|hb|simd)"
    for text in texts:
        cleaned = re.sub(rf"{vintage}[ _-]?\d{{4}}|(?:2001|2011|2022)[ _-]?{vintage}", " ", text, flags=re.IGNORECASE)
        cleaned = re.sub(r"(\d{4})[ _-]?based", " ", cleaned, flags=re.IGNORECASE)
        found |= {int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", cleaned)}
    return found.pop() if len(found) == 1 else None
