"""Downloads that are safe to open in a spreadsheet."""
from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics import metrics

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PATTERN = "^[=+@\\-\\t\\r]"  # the same starts, as a regular expression for Arrow (RE2)


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe (OWASP's advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell and header neutralised: for downloads, and for tables on screen too,
    since the table's own toolbar offers a CSV download of what it shows."""
    out = frame.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    return out


def screen_table(frame: pd.DataFrame) -> pa.Table | pd.DataFrame:
    """The frame for a table on screen, neutralised as `neutralised` does, but tested and fixed in Arrow: the
    per-cell map cost 1–7 ms per table on every run, and Streamlit converts the frame to Arrow anyway.
    A frame Arrow cannot convert (mixed types in a column) comes back neutralised for Streamlit to mend."""
    headers = [neutralise(str(c)) for c in frame.columns]
    try:
        table = pa.Table.from_pandas(frame.set_axis(headers, axis=1), preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return neutralised(frame)
    for i, column in enumerate(table.columns):
        text = column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
        if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
            continue
        risky = pc.match_substring_regex(text, FORMULA_PATTERN)
        if pc.any(risky).as_py():
            quoted = pc.binary_join_element_wise(pa.scalar("'", text.type), text, pa.scalar("", text.type))
            fixed = pc.if_else(risky, quoted, text)
            table = table.set_column(i, table.field(i).with_type(fixed.type), fixed)
    return table


def safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8 with BOM, so Excel reads accents) with every text cell and header neutralised."""
    return neutralised(frame).to_csv(index=False).encode("utf-8-sig")


# --- Tables as people read them (issue 20) ----------------------------------------------------------------------
# Labels and formats come from the registry (analytics.metrics.COLUMNS): on screen the values stay numbers where
# they can (so columns still sort) with a format for each; a column with a gap is written out as text, since the
# table would show a gap as "None". Withheld (suppressed) figures read "withheld", anything else missing "—".

WITHHELD, MISSING = "withheld", "—"
DECIMALS = {"count": 0, "decimal1": 1, "decimal2": 2, "signed1": 1, "signed2": 2, "percent": 1, "share": 1}
SCREEN_FORMATS = {"count": "localized", "decimal1": "%.1f", "decimal2": "%.2f", "signed1": "%+.1f",
                  "signed2": "%+.2f", "percent": "%.1f", "share": "%.1f"}
TEXT_FORMATS = {"count": "{:,.0f}", "decimal1": "{:,.1f}", "decimal2": "{:,.2f}", "signed1": "{:+,.1f}",
                "signed2": "{:+,.2f}", "percent": "{:,.1f}", "share": "{:,.1f}"}


def _number(values: pd.Series, kind: str) -> pd.Series:
    """Rounded as the kind is written (shares as percentages); -0.0 becomes 0 so nothing reads '-0.00'."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float) * (100 if kind == "share" else 1)
    return numbers.round(DECIMALS[kind]) + 0.0


def _tiny(value: object) -> str:
    """A small positive quantity (e.g. raking's remaining gap) without scientific notation."""
    return MISSING if pd.isna(value) else "below 0.0001" if abs(float(value)) < 0.0001 else f"{float(value):.4f}"


def _text(values: pd.Series, names: dict[str, str] | None) -> pd.Series:
    def one(v: object) -> object:
        if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)):
            return MISSING
        if isinstance(v, str):
            return names.get(v, v) if names else metrics.name_codes(v)
        return v
    return values.map(one).astype(object)


def _dates(values: pd.Series, kind: str) -> pd.Series:
    when = pd.to_datetime(values, errors="coerce")
    return when.map(lambda d: MISSING if pd.isna(d) else d.strftime("%b %Y" if kind == "month" else "%-d %b %Y"))


def for_screen(frame: pd.DataFrame, names: dict[str, dict[str, str]] | None = None
               ) -> tuple[pd.DataFrame, dict[str, tuple[str, str, str | None]]]:
    """The frame ready for st.dataframe, and for each column (kind of column, label, format): kind is 'number',
    'date', 'checkbox' or 'text'. `names`: code → name for coded columns besides the registry's own (e.g. the
    pack's indicators). Column names stay the codes (tests and callers read them); the labels go on screen."""
    out, spec = frame.copy(), {}
    coded = {**metrics.CODED_COLUMNS, **(names or {})}
    for code in frame.columns:
        col, values = metrics.column(str(code)), frame[code]
        if col.kind in DECIMALS and pd.api.types.is_numeric_dtype(values):
            numbers = _number(values, col.kind)
            if numbers.isna().any():
                out[code] = numbers.map(lambda v: WITHHELD if pd.isna(v) else TEXT_FORMATS[col.kind].format(v))
                spec[code] = ("text", col.label, None)
            else:
                out[code] = numbers.astype("Int64") if col.kind == "count" else numbers
                spec[code] = ("number", col.label, SCREEN_FORMATS[col.kind])
        elif col.kind in ("date", "month") or pd.api.types.is_datetime64_any_dtype(values):
            out[code] = _dates(values, col.kind)
            spec[code] = ("text", col.label, None)
        elif pd.api.types.is_bool_dtype(values):
            spec[code] = ("checkbox", col.label, None)
        elif str(code) == "max_margin_error":
            out[code], spec[code] = values.map(_tiny), ("text", col.label, None)
        elif pd.api.types.is_float_dtype(values):
            out[code] = values.map(lambda v: MISSING if pd.isna(v) else f"{v:,.2f}".rstrip("0").rstrip("."))
            spec[code] = ("text", col.label, None)
        elif pd.api.types.is_numeric_dtype(values) and not values.isna().any():
            spec[code] = ("number", col.label, None)
        else:
            out[code] = _text(values, coded.get(str(code)))
            spec[code] = ("text", col.label, None)
    return out, spec


def readable_csv(frame: pd.DataFrame, names: dict[str, dict[str, str]] | None = None) -> bytes:
    """A download people can read: the registry's labels as the header, the codes (what a script would use) in
    a second header row; values written as on screen but without thousands separators, so a spreadsheet still
    reads them as numbers, and dates as YYYY-MM-DD."""
    shown, spec = for_screen(frame, names)
    body = shown.copy()
    for code in frame.columns:
        col = metrics.column(str(code))
        if col.kind in DECIMALS and pd.api.types.is_numeric_dtype(frame[code]):
            numbers = _number(frame[code], col.kind)
            digits = DECIMALS[col.kind]
            body[code] = numbers.map(lambda v: WITHHELD if pd.isna(v) else f"{v:.{digits}f}")
        elif col.kind in ("date", "month") or pd.api.types.is_datetime64_any_dtype(frame[code]):
            when = pd.to_datetime(frame[code], errors="coerce")
            body[code] = when.map(lambda d: MISSING if pd.isna(d) else d.strftime("%Y-%m-%d"))
    header = pd.DataFrame([[str(c) for c in frame.columns]], columns=frame.columns)
    table = pd.concat([header, body.astype(object)], ignore_index=True)
    table.columns = [spec[c][1] for c in frame.columns]
    return safe_csv(table)


def ranked(frame: pd.DataFrame, names: list[str], value: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """A heatmap as a sorted list, for a phone: `group` (the `names` columns joined with ', '), `value` and
    `extra` columns, lowest value first and withheld ones last; three narrow columns fit a 390 px screen."""
    out = frame.sort_values(value, na_position="last").reset_index(drop=True)
    group = out[names].astype(str).agg(", ".join, axis=1)
    return pd.concat([group.rename("group"), out[[value, *extra]]], axis=1)
