"""Downloads that are safe to open in a spreadsheet."""
from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
