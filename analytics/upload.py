"""An uploaded spreadsheet, read defensively and turned into ledger rows with a report of every problem.

`read_upload` takes the bytes as received (the file's name never decides how it is read: its content does; the
name only labels a refusal) and refuses, with a plain message, anything too large, too long, an XLSX that would
expand too far (a zip bomb) or that declares a DTD (entities), or text it cannot decode. `prepare` applies a
column matching (analytics.mapping) and returns the rows in the contract's format with every problem found by row
and column, in the contract's own words (analytics.schema).
The full check against the pack (ids unique across the whole ledger, activity ids resolve…) is
`analytics.ledger.check`, which runs `load_pack` on the ledger with this batch added.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass, field, replace
from xml.parsers import expat

import pandas as pd

from analytics import config, mapping
from analytics.db import Store
from analytics.export import FORMULA_STARTS
from analytics.schema import LEDGER_FILES, MAX_ROWS_SPELT_OUT, FileSpec, Problem, check_frame

MAX_UPLOAD_MB = 20  # the same as server.maxUploadSize in .streamlit/config.toml
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_ROWS = 200_000
MAX_COLUMNS = 500
MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024  # an XLSX is a zip: refuse one that would expand past this…
MAX_XLSX_RATIO = 100  # …or that is compressed suspiciously well (a zip bomb); real workbooks are under ~20
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
UNMATCHED = "no column of the file is matched to this field"
UPLOAD = "uploaded file"  # how problems name the upload: the person's file name is never echoed as a path
ID_FIELDS = ("response_id", "activity_id", "area_code", "insight_id", "action_id", "story_id")
SPECS: dict[str, FileSpec] = {s.table_name: s for s in LEDGER_FILES}
PENDING_ID = "PENDING"  # stands in for the batch id in generated response ids until the commit


class UploadRefused(Exception):
    """The file cannot be taken at all; the message says why and what to do."""


@dataclass
class RawUpload:
    """The file as a table of text: `frame` has the file's own headers; its index + 2 is the spreadsheet row."""

    frame: pd.DataFrame
    sha256: str
    extension: str  # "xlsx" or "csv": how it was read, decided by its content
    notices: list[str] = field(default_factory=list)


def read_upload(data: bytes, name: str = "") -> RawUpload:
    """Read CSV (any delimiter a spreadsheet writes, UTF-8/UTF-16/Windows text) or XLSX bytes as text cells.
    `name` (the file's name as sent, shown as text) is only used to name the file in a refusal."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"The file is larger than {MAX_UPLOAD_MB} MB; split it into smaller files.")
    if not data.strip():
        raise UploadRefused("The file is empty.")
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadRefused("This is an old-style Excel (.xls) or password-protected workbook; open it in Excel and "
                            "save it as .xlsx (without a password) or as CSV UTF-8.")
    if data.startswith(b"PK"):
        rows, notices = _xlsx_rows(data, name)
        extension = "xlsx"
    else:
        text, notices = _decode(data)
        rows, delimiter_notice = _csv_rows(text)
        notices += delimiter_notice
        extension = "csv"
    frame, more = _frame(rows)
    return RawUpload(frame, digest, extension, notices + more)


def _check_zip(data: bytes) -> None:
    """Refuse a zip that would expand too far, before any XML parser sees it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise UploadRefused("The file starts like an Excel workbook but is damaged; save it again as .xlsx or "
                            "CSV.") from None
    expanded = sum(m.file_size for m in members)
    packed = max(sum(m.compress_size for m in members), 1)
    worst = max((m.file_size / max(m.compress_size, 1) for m in members if m.file_size > 1_000_000), default=1)
    if len(members) > 10_000 or expanded > MAX_XLSX_UNCOMPRESSED or max(expanded / packed, worst) > MAX_XLSX_RATIO:
        raise UploadRefused(f"The workbook would expand to {expanded / 1e6:,.0f} MB ({expanded / packed:,.0f} times "
                            "its size), which no engagement spreadsheet needs; it was not opened. Save the sheet as "
                            "CSV, or remove what makes it so large.")


class _Prolog(Exception):
    """Raised inside the XML parser to stop at the first element (or at a DTD, with `dtd` set)."""

    def __init__(self, dtd: bool):
        super().__init__()
        self.dtd = dtd


def _declares_dtd(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """True when the part declares a DTD (<!DOCTYPE …>, where entities live). A DTD can only come before the first
    element, so parsing stops there; expat reads the part's own encoding, so no spelling of it slips past."""
    parser = expat.ParserCreate()

    def stop(dtd: bool):
        def handler(*_):
            raise _Prolog(dtd)
        return handler
    parser.StartDoctypeDeclHandler, parser.StartElementHandler = stop(True), stop(False)
    with archive.open(member) as stream:
        try:
            while chunk := stream.read(1 << 16):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Prolog as found:
            return found.dtd
        except expat.ExpatError:  # not XML (an image) or broken: openpyxl's own reading decides
            return False
    return False


def _refuse_dtd(data: bytes, name: str) -> None:
    """Issue 19: entities in a DTD made openpyxl's parser fail with a traceback (and could expand a few bytes to
    gigabytes, or name a file on the server). No spreadsheet program writes a DTD into a workbook."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            part = next((m.filename for m in archive.infolist() if not m.is_dir() and _declares_dtd(archive, m)),
                        None)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError,
            RuntimeError) as exc:  # a damaged part, a bad checksum, an encrypted or unknown compression
        raise UploadRefused(f"The file starts like an Excel workbook but is damaged ({type(exc).__name__}); save it "
                            "again as .xlsx or as CSV UTF-8.") from None
    if part:
        named = f"The workbook '{name}'" if name else "The workbook"
        raise UploadRefused(f"{named} declares a DTD (<!DOCTYPE …> in its part {part}), which no spreadsheet "
                            "program writes and which can make a file expand or read other files; it was not "
                            "opened. Open it in Excel and save it again as .xlsx, or save it as CSV UTF-8.")


def _xlsx_rows(data: bytes, name: str = "") -> tuple[list[tuple[int, list[str]]], list[str]]:
    import openpyxl  # only once the zip is known to be safe

    _check_zip(data)
    _refuse_dtd(data, name)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or mislabelled file
        raise UploadRefused(f"The file cannot be opened as an Excel workbook ({type(exc).__name__}); save it "
                            "again as .xlsx or as CSV UTF-8.") from None
    try:
        return _sheet_rows(book)
    except UploadRefused:
        raise
    except Exception as exc:  # read_only parses each sheet as it is read: a broken sheet fails here, not above
        raise UploadRefused(f"The workbook cannot be read ({type(exc).__name__} in a sheet); save it again as "
                            ".xlsx or as CSV UTF-8.") from None
    finally:
        book.close()


def _sheet_rows(book) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """The first sheet with data, as (spreadsheet row number, cells as text)."""
    notices = []
    for sheet in book.worksheets:
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values[:MAX_COLUMNS + 1]]
            if any(cells):
                rows.append((number, cells))
            if len(rows) > MAX_ROWS + 1:
                raise UploadRefused(f"The sheet has more than {MAX_ROWS:,} rows; split it into smaller files.")
        if rows:
            if len(book.worksheets) > 1:
                notices.append(f"The workbook has {len(book.worksheets)} sheets; the first with data, "
                               f"'{sheet.title}', was read.")
            return rows, notices
    raise UploadRefused("The workbook has no rows with data.")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _decode(data: bytes) -> tuple[str, list[str]]:
    """UTF-8 (with or without a byte-order mark), UTF-16 (Excel's 'Unicode text'), else Windows-1252 with a
    notice; a file with zero bytes in it that is not UTF-16 is not text."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16"), []
    elif len(data) >= 4 and data[1::2][:200].count(0) > 0.8 * len(data[1::2][:200]):
        return _strict(data, "utf-16-le"), []
    if b"\0" in data:
        raise UploadRefused("The file is not a spreadsheet or text file; upload a .csv or .xlsx file.")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    for encoding, name in (("cp1252", "Windows-1252 (Western European)"), ("latin-1", "Latin-1")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, [f"The file is not UTF-8, so it was read as {name} text. Check that accented letters look "
                      "right in the preview; if not, save the file as 'CSV UTF-8' and upload it again."]
    raise UploadRefused("The file's text encoding is not recognised; save it as 'CSV UTF-8'.")  # pragma: no cover


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise UploadRefused("The file looks like UTF-16 text but cannot be decoded; save it as 'CSV UTF-8'.") from None


def _csv_rows(text: str) -> tuple[list[tuple[int, list[str]]], list[str]]:
    delimiter = _sniff(text)
    rows = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if any(c.strip() for c in cells):
                rows.append((number, [c.strip() for c in cells]))
            if len(rows) > MAX_ROWS + 1:
                raise UploadRefused(f"The file has more than {MAX_ROWS:,} rows; split it into smaller files.")
    except csv.Error as exc:
        raise UploadRefused(f"The file cannot be read as CSV (row {len(rows) + 1}: {exc}); save it again as "
                            "'CSV UTF-8'.") from None
    notices = [] if delimiter == "," else [f"The columns are separated by {DELIMITERS[delimiter]}; the file was "
                                           "read that way."]
    return rows, notices


def _sniff(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of columns."""
    lines = text[:65536].splitlines()[:50]
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        score = (sum(c == counts[0] for c in counts) / len(counts), counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _frame(rows: list[tuple[int, list[str]]]) -> tuple[pd.DataFrame, list[str]]:
    """Rows (spreadsheet row number, cells) → a text table; the first row with data is the header."""
    if not rows:
        raise UploadRefused("The file is empty.")
    (header_row, header), data = rows[0], rows[1:]
    while header and not header[-1]:
        header = header[:-1]
    if len(header) > MAX_COLUMNS:
        raise UploadRefused(f"The file has more than {MAX_COLUMNS} columns; is the header row the first row?")
    if not data:
        raise UploadRefused("The file has a header row but no data rows.")
    long = [n for n, cells in data if any(cells[len(header):])]
    if long:
        shown = ", ".join(str(n) for n in long[:5])
        raise UploadRefused(f"Row(s) {shown} have more cells than the header row has columns ({len(header)}); a cell "
                            "probably holds the separator without quotes. Save the file again from the spreadsheet.")
    names = _unique([h or f"Column {i + 1}" for i, h in enumerate(header)])
    cells = [(c + [""] * len(header))[:len(header)] for _, c in data]
    frame = pd.DataFrame(cells, columns=names, index=[n - header_row - 1 for n, _ in data], dtype=str)
    notices = [] if header_row == 1 else [f"The header row is row {header_row}; the rows above it were empty."]
    return frame, notices


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


# --- the pack's values an upload is matched against ---------------------------------------------------------

@dataclass(frozen=True)
class Lookups:
    """Lower-cased text → the pack's value, for matching; `activities` lists (id, description) for choosing."""

    area_codes: dict[str, str]
    area_names: dict[str, str | None]  # None: the name belongs to more than one area
    localities: dict[str, str]
    communities: dict[str, str]
    priorities: dict[str, str]  # by code and by label
    activities: tuple[tuple[str, str], ...]


def lookups(store: Store) -> Lookups:
    """What uploaded values are matched against, from the store (cached by ui.compute per store)."""
    frame = store.query("ledger_lookups")
    by_kind = {k: f for k, f in frame.groupby("kind")}
    empty = pd.DataFrame(columns=["value", "label"])
    areas, priorities = by_kind.get("area", empty), by_kind.get("priority", empty)
    names: dict[str, str | None] = {}
    for code, name in zip(areas["value"], areas["label"]):
        names[name.lower()] = None if name.lower() in names else code
    return Lookups(
        area_codes={c.lower(): c for c in areas["value"]}, area_names=names,
        localities={v.lower(): v for v in by_kind.get("locality", empty)["value"]},
        communities={v.lower(): v for v in by_kind.get("community", empty)["value"]},
        priorities={**{lbl.lower(): c for c, lbl in zip(priorities["value"], priorities["label"])},
                    **{c.lower(): c for c in priorities["value"]}},
        activities=tuple(zip(by_kind.get("activity", empty)["value"], by_kind.get("activity", empty)["label"])))


# --- preparing the rows ---------------------------------------------------------------------------------------

@dataclass
class Prepared:
    """Rows ready for the ledger (`frame`: the contract's columns as text, index as the upload's) and every
    problem found. `fixed` holds values chosen on the page for the whole file; `generate_ids` says response ids
    are made at commit from the batch id and the row number."""

    kind: str
    frame: pd.DataFrame
    problems: list[Problem]
    notices: list[str]
    columns: dict[str, str | None]
    fixed: dict[str, str]
    generate_ids: bool = False
    refused: dict[str, list[str]] = field(default_factory=dict)  # field → its values no rule recognised
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field → {file's value: chosen value}


def value_choices(lookups: Lookups) -> dict[str, tuple[str, ...]]:
    """Fields whose unrecognised values an editor can match by hand, each with the values it may take ("" is
    blank: not known)."""
    return {"sex": ("F", "M", "X", ""), "age_band": config.AGE_BANDS + ("",), "method": config.METHODS,
            "mode": config.MODES, "locality": tuple(sorted(set(lookups.localities.values()))) + ("All",)}


def prepare(raw: RawUpload, kind: str, columns: dict[str, str | None], lookups: Lookups,
            fixed: dict[str, str] | None = None, values: dict[str, dict[str, str]] | None = None) -> Prepared:
    """Apply the matching (field → the file's header, or None) and turn every cell into the ledger's value;
    `values` matches, by hand, values the rules do not recognise (field → {the file's value: the ledger's})."""
    spec, fixed = SPECS[kind], {k: v for k, v in (fixed or {}).items() if v}
    choosable = value_choices(lookups)
    values = {f: {v: c for v, c in chosen.items() if c in choosable.get(f, ())} for f, chosen in (values or {}).items()}
    values = {f: chosen for f, chosen in values.items() if chosen}
    refused_values: dict[str, list[str]] = {}
    columns = {f: (h if h in raw.frame.columns else None) for f, h in columns.items()}
    generate = kind == "responses" and not columns.get("response_id")
    problems = _unmatched(spec, columns, fixed, generate)
    out = pd.DataFrame(index=raw.frame.index)
    special: list[tuple[int, str, str, str]] = []  # (row index, field, value, message)
    for column in spec.columns:
        header = columns.get(column.name)
        source = raw.frame[header] if header else pd.Series(fixed.get(column.name, ""), index=raw.frame.index)
        convert = _converter(column.name, lookups, source)
        results = {v: convert(str(v)) for v in source.unique()}  # survey columns repeat a few values
        if column.name in choosable:
            refused_values[column.name] = sorted(str(v) for v, (out, msg) in results.items()
                                                 if msg or out not in choosable[column.name])
            chosen = values.get(column.name, {})
            results.update({v: (chosen[str(v)], None) for v in results if str(v) in chosen})
        out[column.name] = source.map(lambda v: results[v][0])
        refused = {v for v, (_, msg) in results.items() if msg}
        special += [(i, column.name, str(v), results[v][1]) for i, v in source[source.isin(refused)].items()]
    if generate:
        out["response_id"] = [f"{PENDING_ID}-{i + 2}" for i in out.index]
    special += [(i, f, v, "looks like a spreadsheet formula; an id or code must be plain text")
                for f in ID_FIELDS if f in out.columns for i, v in out[f].items() if str(v).startswith(FORMULA_STARTS)]
    problems += _spell(special)
    reported = {(p.row, p.column) for p in problems}
    unmatched = {p.column for p in problems if p.row is None and p.message.startswith(UNMATCHED)}
    problems += [p for p in check_frame(out, spec) if (p.row, p.column) not in reported and p.column not in unmatched]
    notices = list(raw.notices) + _formula_notice(out, spec)
    return Prepared(kind, out, relabel(problems, columns), notices, columns, fixed, generate,
                    {f: v for f, v in refused_values.items() if v}, values)


def _unmatched(spec: FileSpec, columns: dict, fixed: dict, generate: bool) -> list[Problem]:
    missing = [c.name for c in spec.columns if not c.blank_ok and c.required and not columns.get(c.name)
               and c.name not in fixed and not (generate and c.name == "response_id")]
    hint = {"activity_id": ", or choose the activity the whole file belongs to",
            "partner": ", or choose the partner whose file it is"}
    return [Problem(UPLOAD, f"{UNMATCHED}, which the ledger needs in every row; "
                            f"choose the column under 'Match the columns'{hint.get(m, '')}", column=m)
            for m in missing]


def _converter(name: str, lookups: Lookups, source: pd.Series):
    """The value function for one field (analytics.mapping), bound to the pack's lookups."""
    if name in ("submitted_on", "start_date", "end_date", "published_on", "reported_back_on", "told_on"):
        first = mapping.month_first(source.tolist())
        return lambda v: mapping.to_date(v, month_first=first)
    return {
        "sex": mapping.to_sex, "age_band": mapping.to_age_band, "method": mapping.to_method,
        "mode": mapping.to_mode, "participants": mapping.to_count,
        "area_code": lambda v: mapping.to_area(v, lookups.area_codes, lookups.area_names),
        "locality": lambda v: mapping.to_choice(v, lookups.localities, mapping.ALL_WORDS),
        "communities": lambda v: mapping.to_list(v, lookups.communities),
        "priorities": lambda v: mapping.to_list(v, lookups.priorities),
        "consent_to_quote": lambda v: mapping.to_word(v, mapping.YES_NO),
        "status": lambda v: mapping.to_word(v, mapping.STATUS_WORDS),
        "consent": lambda v: mapping.to_word(v, mapping.CONSENT_WORDS),
    }.get(name, lambda v: (v.strip(), None))


def _spell(special: list[tuple[int, str, str, str]]) -> list[Problem]:
    """Problems for cells a value function refused, the first few of each kind spelt out and the rest counted."""
    problems, counts = [], {}
    for i, name, value, message in special:
        counts[(name, message)] = counts.get((name, message), 0) + 1
        if counts[(name, message)] <= MAX_ROWS_SPELT_OUT:
            problems.append(Problem(UPLOAD, message, row=int(i) + 2, column=name, value=value))
    for (name, message), count in counts.items():
        if count > MAX_ROWS_SPELT_OUT:
            problems.append(Problem(UPLOAD, f"… and {count - MAX_ROWS_SPELT_OUT} more rows like this ({message})",
                                    column=name))
    return problems


def _formula_notice(frame: pd.DataFrame, spec: FileSpec) -> list[str]:
    text = [c.name for c in spec.columns if c.name not in ID_FIELDS]
    count = int(sum(frame[c].str.startswith(FORMULA_STARTS).sum() for c in text))
    if not count:
        return []
    return [f"{count} cell(s) begin with =, +, -, @ or a tab, as spreadsheet formulas do. They are kept as text "
            "and never run: every download from the dashboard neutralises them."]


def relabel(problems: list[Problem], columns: dict[str, str | None]) -> list[Problem]:
    """Problems found in the upload, named as the uploaded file, with its own column beside the ledger field
    ("Gender → sex")."""
    def label(column: str | None) -> str | None:
        header = columns.get(column or "")
        return f"{header} → {column}" if header and header != column else column
    return [replace(p, file=UPLOAD, column=label(p.column)) for p in problems]


def finalise(prepared: Prepared, batch_id: str) -> pd.DataFrame:
    """The rows as written into the batch: generated response ids take the batch id; every row records it."""
    frame = prepared.frame.copy()
    if prepared.generate_ids:
        frame["response_id"] = [f"{batch_id}-{i + 2}" for i in frame.index]
    frame["batch_id"] = batch_id
    return frame.reset_index(drop=True)
