"""Upload batches inside the area pack: where they live, and reading them as part of the engagement ledger.

`<pack>/ledger_batches/<batch_id>/` holds `activities.csv` and/or `responses.csv` in the contract's format, the file
as it was uploaded (`original.<ext>`) and `manifest.json`. A batch folder appears with one atomic rename, so a reader
sees a batch whole or not at all. Only folders named like a batch id are ledger: `.tmp-*` (a commit in progress, or
one killed half way) and `.undone-*` (undone, kept for the audit trail) are never read as data.

This module only reads; `analytics.ledger` writes. `pack.load_pack` reads the base files and every committed batch
(in batch-id order, which is the order they were added) as one table per file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import pandas as pd

from analytics.schema import MAX_ROWS_SPELT_OUT, FileSpec, Problem, read_csv

BATCHES_DIR = "ledger_batches"
BATCH_FILES = ("activities.csv", "responses.csv", "comments.csv", "insights.csv", "actions.csv", "stories.csv")
# B + UTC time to the microsecond + a random suffix: ids sort in the order batches were added.
BATCH_ID = re.compile(r"^B\d{8}T\d{12}Z-[0-9a-f]{6}$")
TMP_PREFIX, UNDONE_PREFIX = ".tmp-", ".undone-"


@dataclass(frozen=True)
class Part:
    """One file that went into a ledger table, in order: `rows` data rows under `label` (the name in messages)."""

    label: str
    rows: int


def batches_dir(pack: Path) -> Path:
    return Path(pack) / BATCHES_DIR


def committed(pack: Path) -> list[Path]:
    """Committed batch folders, oldest first."""
    folder = batches_dir(pack)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and BATCH_ID.match(p.name))


def undone(pack: Path) -> list[Path]:
    folder = batches_dir(pack)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_dir() and p.name.startswith(UNDONE_PREFIX)
                  and BATCH_ID.match(p.name.removeprefix(UNDONE_PREFIX)))


def hash_items(pack: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every ledger file in committed batches, for the pack's content hash."""
    for folder in committed(pack):
        for name in BATCH_FILES:
            file = folder / name
            if file.is_file():
                yield f"{BATCHES_DIR}/{folder.name}/{name}", file.read_bytes()


def read_ledger(pack: Path, spec: FileSpec, pending: Path | None = None
                ) -> tuple[pd.DataFrame | None, list[Problem], list[Part]]:
    """The base file plus the same file of every committed batch (and of `pending`, a batch being checked before
    it is committed), as one text table. Returns the table (None when nothing could be read), the problems found
    in each file and across files (a key repeated in a later file), and the parts in order for `relocate`."""
    problems: list[Problem] = []
    frames: list[tuple[str, pd.DataFrame]] = []
    base = Path(pack) / spec.name
    if base.is_file():
        frame, found = read_csv(base, spec)
        problems += found
        if frame is not None:
            frames.append((spec.name, frame))
    elif spec.required:
        problems.append(Problem(spec.name, "the file is missing; see SCHEMA.md for its columns"))
    for folder in committed(pack) + ([Path(pending)] if pending else []):
        file = folder / spec.name
        if file.is_file():
            label = f"{BATCHES_DIR}/{folder.name}/{spec.name}"
            frame, found = read_csv(file, replace(spec, name=label))
            problems += found
            if frame is not None:
                frames.append((label, frame))
    parts = [Part(label, len(frame)) for label, frame in frames]
    if not frames:
        return None, problems, parts
    if len(frames) == 1:
        return frames[0][1], problems, parts
    combined = pd.concat([f for _, f in frames], ignore_index=True).fillna("")
    return combined, problems + _repeated_keys(spec, frames), parts


def _repeated_keys(spec: FileSpec, frames: list[tuple[str, pd.DataFrame]]) -> list[Problem]:
    """Rows of a later file whose key is already used by an earlier file (repeats within a file are reported by
    schema.check_frame)."""
    if not spec.key or not all(k in f.columns for _, f in frames for k in spec.key):
        return []
    first: dict[tuple, tuple[str, int]] = {}
    problems: list[Problem] = []
    what = " + ".join(spec.key)
    for label, frame in frames:
        keys = list(zip(*(frame[k].str.strip() for k in spec.key)))
        clashes = [(i, k) for i, k in enumerate(keys) if k in first and first[k][0] != label]
        for i, key in clashes[:MAX_ROWS_SPELT_OUT]:
            where, row = first[key]
            problems.append(Problem(label, f"duplicate {what}: already in the ledger ({where}, row {row}); each "
                                           "must appear once (remove the repeated row)",
                                    row=i + 2, column=spec.key[0], value=str(frame.iloc[i][spec.key[0]])))
        if len(clashes) > MAX_ROWS_SPELT_OUT:
            problems.append(Problem(label, f"… and {len(clashes) - MAX_ROWS_SPELT_OUT} more rows like this "
                                           f"(duplicate {what}: already in the ledger)", column=spec.key[0]))
        for i, key in enumerate(keys):
            first.setdefault(key, (label, i + 2))
    return problems


def relocate(problems: list[Problem], layout: dict[str, list[Part]]) -> list[Problem]:
    """Checks across files run on the combined table, so their row numbers count through every part; point each
    at the file and row it came from. A repeat reported by two checks is listed once."""
    out: list[Problem] = []
    seen: set[Problem] = set()
    for problem in problems:
        parts = layout.get(problem.file, [])
        if len(parts) > 1 and problem.row is not None:
            position = problem.row - 2
            for part in parts:
                if position < part.rows:
                    problem = replace(problem, file=part.label, row=position + 2)
                    break
                position -= part.rows
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out
