"""Responses an upload would add twice, found by their content (issue 19, part 4).

A survey export re-saved with one more blank line has another file hash, and with no response ids in it every row
gets a new generated id, so neither the hash nor the ids catch it. When the file has response ids they decide
(a repeated id is refused by the contract's checks, in the file and against the ledger). When it has none, a row
repeats when its fingerprint — the activity and the person's fields (date, area, sex, age band, communities,
priorities), each trimmed, case-folded and NFKC-normalised, list items sorted, blanks dropped — is already in the
ledger (the base file and every committed batch) or on an earlier row of the same file.

Two different people can share a fingerprint (same activity, day, area, sex, age band and answers), so repeats are
shown to the editor, with examples, and left out unless the editor says they are different people.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.batches import BATCHES_DIR, read_ledger
from analytics.upload import SPECS, Prepared

PERSON_FIELDS = ("submitted_on", "area_code", "sex", "age_band", "communities", "priorities")
LIST_FIELDS = ("communities", "priorities")
MAX_EXAMPLES = 5
EXAMPLE_COLUMNS = ["row", "activity_id", *PERSON_FIELDS, "same as"]


@dataclass(frozen=True)
class Repeats:
    """Rows of an upload that would repeat a response. `rows` holds their labels in the prepared frame's index;
    `in_ledger` of them match a response already in the ledger, the rest an earlier row of the file; `examples`
    shows the first few (columns: row, activity_id, the person's fields, same as)."""

    rows: tuple[int, ...] = ()
    in_ledger: int = 0
    examples: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EXAMPLE_COLUMNS))

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def in_file(self) -> int:
        return self.count - self.in_ledger


def _text(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


def _items(value: object) -> str:
    return ";".join(sorted({_text(item) for item in str(value).split(";")} - {""}))


def _each(values: pd.Series, function) -> pd.Series:
    """`function` applied once per distinct value (survey columns repeat a few values)."""
    return values.map({v: function(v) for v in values.unique()})


def fingerprints(frame: pd.DataFrame) -> pd.Series:
    """One normalised text per row: the activity and the person's fields, joined with a separator no cell holds."""
    parts = [_each(frame["activity_id"], _text)]
    for name in PERSON_FIELDS:
        values = frame[name] if name in frame.columns else pd.Series("", index=frame.index, dtype=object)
        parts.append(_each(values.fillna(""), _items if name in LIST_FIELDS else _text))
    return parts[0].astype(str).str.cat([p.astype(str) for p in parts[1:]], sep="\x1f")


def find(pack: Path, prepared: Prepared) -> Repeats:
    """The rows of a responses upload without response ids that repeat the ledger or an earlier row of the file
    (none for activities, or when the file has its own response ids: those are checked as ids)."""
    if prepared.kind != "responses" or not prepared.generate_ids or not len(prepared.frame):
        return Repeats()
    mine = fingerprints(prepared.frame)
    ledger = _ledger_fingerprints(pack, set(prepared.frame["activity_id"].map(_text)))
    rows, in_ledger, examples, first_in_file = [], 0, [], {}
    for label, key in mine.items():
        if key in ledger:
            where = ledger[key]
            in_ledger += 1
        elif key in first_in_file:
            where = f"row {first_in_file[key]} of this file"
        else:
            first_in_file[key] = int(label) + 2
            continue
        rows.append(label)
        if len(examples) < MAX_EXAMPLES:
            cells = prepared.frame.loc[label]
            examples.append([int(label) + 2, cells["activity_id"], *(cells.get(f, "") for f in PERSON_FIELDS), where])
    return Repeats(tuple(rows), in_ledger, pd.DataFrame(examples, columns=EXAMPLE_COLUMNS))


def _ledger_fingerprints(pack: Path, activities: set[str]) -> dict[str, str]:
    """Fingerprint → where the first response with it is ('batch <id>, row N' or 'responses.csv, row N'), for the
    ledger's responses to these activities."""
    frame, _, parts = read_ledger(pack, SPECS["responses"])
    if frame is None or not len(frame) or "activity_id" not in frame.columns:
        return {}
    sizes = [p.rows for p in parts]
    part_of = np.repeat(np.arange(len(parts)), sizes)  # position in the combined table → its file
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ours = _each(frame["activity_id"], _text).isin(activities).to_numpy()
    found: dict[str, str] = {}
    for position, key in zip(ours.nonzero()[0], fingerprints(frame[ours])):
        if key not in found:
            part = parts[part_of[position]].label
            batch = part.removeprefix(f"{BATCHES_DIR}/").removesuffix("/responses.csv")
            where = part if batch == part else f"batch {batch}"
            found[key] = f"{where}, row {position - starts[part_of[position]] + 2}"
    return found


def without(prepared: Prepared, repeats: Repeats) -> Prepared:
    """The prepared upload less its repeated rows (index labels kept, so rows and generated ids still name the
    file's own rows)."""
    return replace(prepared, frame=prepared.frame.drop(index=list(repeats.rows)))
