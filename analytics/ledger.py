"""Adding an upload to the area pack's ledger as a batch, and undoing the last one: checked, atomic, serialised.

The pack folder is the source of truth and the store is always rebuilt from it. A commit checks the whole ledger
with the batch added (`load_pack`), writes the batch into `ledger_batches/.tmp-<id>/`, syncs it to disk and makes
it appear with one atomic rename, then rebuilds the store (itself an atomic replace). A process killed at any
point leaves either no batch or a complete one; leftover `.tmp-*` folders are never read and are removed by the
next commit. Commits and undos are serialised by a lock file, so two editors never interleave. Undo renames the
last batch to `.undone-<id>`, kept with its manifest for the audit trail.

Logs name batch ids, row counts and file hashes only: never a person, a file name or a cell.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pandas as pd

from analytics import repeats as repeated
from analytics.batches import BATCHES_DIR, TMP_PREFIX, UNDONE_PREFIX, batches_dir, committed, undone
from analytics.build import ensure_store
from analytics.pack import load_pack
from analytics.schema import PackInvalid, Problem
from analytics.upload import PENDING_ID, UNMATCHED, UPLOAD, Prepared, finalise, relabel

MANIFEST, UNDO_NOTE = "manifest.json", "undo.json"
log = logging.getLogger(__name__)


class LedgerRefused(Exception):
    """The batch was not added (or not undone); `problems` lists what is wrong, when there is a list."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        self.problems = list(problems or [])
        super().__init__(message)


def new_batch_id(after: str | None = None, now: datetime | None = None) -> str:
    """'B' + UTC time to the microsecond + a random suffix; always sorts after `after` (a clock set back)."""
    moment = now or datetime.now(timezone.utc)
    stamp = moment.strftime("%Y%m%dT%H%M%S%f")
    if after and stamp <= after[1:22]:
        stamp = (datetime.strptime(after[1:22], "%Y%m%dT%H%M%S%f") + timedelta(microseconds=1)).strftime(
            "%Y%m%dT%H%M%S%f")
    return f"B{stamp}Z-{secrets.token_hex(3)}"


@contextmanager
def ledger_lock(pack: Path) -> Iterator[None]:
    """One commit or undo at a time on a pack, across threads and processes (released if the holder dies)."""
    folder = batches_dir(pack)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def check(pack: Path, prepared: Prepared) -> list[Problem]:
    """Every problem with adding these rows: those of `prepare`, then the whole pack's checks with the rows added
    (ids unique across the ledger, activity ids, areas, communities and priorities resolve…)."""
    if not len(prepared.frame):
        return [*prepared.problems, Problem(UPLOAD, "has no rows to add")]
    if any(p.message.startswith(UNMATCHED) for p in prepared.problems):
        return prepared.problems  # a field is not matched at all: fix the matching first
    with tempfile.TemporaryDirectory(prefix=".check-") as tmp:
        folder = Path(tmp) / "pending"
        _write_file(folder / f"{prepared.kind}.csv", _csv(finalise(prepared, PENDING_ID)), mkdir=True)
        return _merge(prepared.problems, _validate(pack, folder, prepared))


def _validate(pack: Path, folder: Path, prepared: Prepared) -> list[Problem]:
    """load_pack with `folder` as a pending batch; its problems pointed back at the upload's rows and columns."""
    try:
        load_pack(pack, pending=folder)
        return []
    except PackInvalid as exc:
        prefix = f"{BATCHES_DIR}/{folder.name}/"
        mine = [replace(p, row=None if p.row is None else int(prepared.frame.index[p.row - 2]) + 2)
                for p in exc.problems if p.file.startswith(prefix)]
        return relabel(mine, prepared.columns) + [p for p in exc.problems if not p.file.startswith(prefix)]


def _merge(first: list[Problem], more: list[Problem]) -> list[Problem]:
    """A cell already reported (with a more specific message) is not reported again."""
    seen = {(p.row, p.column) for p in first if p.row is not None}
    return list(dict.fromkeys(first + [p for p in more if p.row is None or (p.row, p.column) not in seen]))


def added_before(pack: Path, digest: str) -> dict | None:
    """The manifest of the committed batch made from a file with this SHA-256 (hex), or None."""
    return next((m for m in map(read_manifest, committed(pack)) if m.get("file_sha256") == digest), None)


def already_added(manifest: dict) -> str:
    return (f"This file was already added as batch {manifest.get('batch_id')} by {manifest.get('uploaded_by')} on "
            f"{manifest.get('uploaded_at')}; it was not added again. To replace that batch, undo it first.")


def repeats(pack: Path, prepared: Prepared) -> repeated.Repeats:
    """Rows of a responses upload without ids that are already in the ledger or repeat an earlier row (issue 19)."""
    return repeated.find(Path(pack), prepared)


def commit(pack: Path, db: Path, prepared: Prepared, original: bytes, *, original_name: str, uploaded_by: str,
           partner: str, add_repeats: bool = False) -> dict:
    """Add the prepared rows as a new batch and rebuild the store; return the batch's manifest. Raises
    LedgerRefused (nothing changed) when the file was added before or the ledger would break the contract.
    Rows that repeat a response by content (`repeats`, found again under the lock) are left out, unless the editor
    said they are different people (`add_repeats`); a file with nothing else is refused."""
    pack, db = Path(pack), Path(db)
    if prepared.problems or not len(prepared.frame):
        raise LedgerRefused("The file has problems to fix before it can be added.", prepared.problems)
    digest = hashlib.sha256(original).hexdigest()
    with ledger_lock(pack):
        _remove_leftovers(pack)
        if earlier := added_before(pack, digest):
            raise LedgerRefused(already_added(earlier))
        found = repeated.find(pack, prepared)
        if found.count and not add_repeats:
            if found.count == len(prepared.frame):
                raise LedgerRefused(f"All {found.count:,} rows are already in the ledger or repeat another row of "
                                    "the file (same activity, date, area, sex, age band, communities and priorities);"
                                    " nothing was added.")
            prepared = repeated.without(prepared, found)
        batch_id = new_batch_id(after=_latest_id(pack))
        frame = finalise(prepared, batch_id)
        manifest = _manifest(batch_id, prepared, digest, original, original_name, uploaded_by, partner, len(frame))
        manifest["repeats_left_out"] = 0 if add_repeats else found.count
        tmp, final = batches_dir(pack) / f"{TMP_PREFIX}{batch_id}", batches_dir(pack) / batch_id
        try:
            _write_batch(tmp, prepared.kind, frame, original, manifest)
            problems = _validate(pack, tmp, prepared)
            if problems:
                raise LedgerRefused("Adding the file would break the ledger's rules; nothing was added.", problems)
            _publish(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        try:
            ensure_store(pack, db)
        except BaseException:  # the store could not be rebuilt: take the batch back out, so pack and store agree
            _publish(final, tmp)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    log.info("ledger: added batch %s (%s, %d rows, %d repeats left out, sha256 %s)", batch_id, prepared.kind,
             len(frame), manifest["repeats_left_out"], digest)
    return manifest


def _manifest(batch_id: str, prepared: Prepared, digest: str, original: bytes, original_name: str,
              uploaded_by: str, partner: str, rows: int) -> dict:
    return {"batch_id": batch_id, "kind": prepared.kind, "rows": rows, "partner": partner,
            "uploaded_by": uploaded_by, "uploaded_at": _now(), "file_sha256": digest,
            "original_name": plain_text(original_name), "original_file": f"original.{_extension(original)}",
            "mapping": {"columns": {f: h for f, h in prepared.columns.items() if h}, "fixed": prepared.fixed,
                        "generated_response_ids": prepared.generate_ids}}


def plain_text(name: str, limit: int = 200) -> str:
    """A file name as the browser sent it, kept as text only (never used as a path): no folders, no controls."""
    name = re.split(r"[\\/]", str(name))[-1]
    return re.sub(r"[\x00-\x1f\x7f]", "", name)[:limit]


def _extension(original: bytes) -> str:
    return "xlsx" if original.startswith(b"PK") else "csv"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _write_file(path: Path, data: bytes, mkdir: bool = False) -> None:
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _write_batch(folder: Path, kind: str, frame: pd.DataFrame, original: bytes, manifest: dict) -> None:
    folder.mkdir(parents=True)
    _write_file(folder / f"{kind}.csv", _csv(frame))
    _write_file(folder / manifest["original_file"], original)
    _write_file(folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
    _fsync_dir(folder)


def _publish(source: Path, target: Path) -> None:
    """The one atomic step: a batch folder appears (or goes) whole."""
    os.rename(source, target)
    _fsync_dir(target.parent)


def _remove_leftovers(pack: Path) -> None:
    """Folders of commits killed half way (only ever removed under the lock, so none is in progress)."""
    for folder in batches_dir(pack).glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(folder, ignore_errors=True)
        log.info("ledger: removed an unfinished batch folder %s", folder.name)


def _latest_id(pack: Path) -> str | None:
    ids = [p.name for p in committed(pack)] + [p.name.removeprefix(UNDONE_PREFIX) for p in undone(pack)]
    return max(ids, default=None)


def read_manifest(folder: Path, name: str = MANIFEST) -> dict:
    """A batch's manifest (or its undo note) as a dict; {} when missing or unreadable."""
    try:
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def last_batch(pack: Path) -> dict | None:
    """The manifest of the batch an undo would take out, or None."""
    folders = committed(pack)
    return {"batch_id": folders[-1].name, **read_manifest(folders[-1])} if folders else None


def undo_last(pack: Path, db: Path, undone_by: str) -> dict:
    """Take the last batch out of the ledger (kept as `.undone-<id>`) and rebuild the store; return its manifest."""
    pack, db = Path(pack), Path(db)
    with ledger_lock(pack):
        _remove_leftovers(pack)
        folders = committed(pack)
        if not folders:
            raise LedgerRefused("There is no added batch to undo.")
        last = folders[-1]
        note = last / UNDO_NOTE
        _write_file(note, json.dumps({"undone_by": undone_by, "undone_at": _now()}).encode("utf-8"))
        target = last.with_name(f"{UNDONE_PREFIX}{last.name}")
        _publish(last, target)
        try:
            ensure_store(pack, db)
        except BaseException as exc:
            _publish(target, last)
            note.unlink(missing_ok=True)
            if isinstance(exc, PackInvalid):
                raise LedgerRefused("Undoing this batch would break the ledger's rules (something added later "
                                    "depends on it); nothing was undone.", exc.problems) from None
            raise
    log.info("ledger: undid batch %s", last.name)
    return {"batch_id": last.name, **read_manifest(target)}


AUDIT_COLUMNS = ["batch_id", "status", "kind", "rows", "partner", "uploaded_by", "uploaded_at", "undone_by",
                 "undone_at", "original_name", "file_sha256"]


def audit(pack: Path) -> pd.DataFrame:
    """Every batch ever added, newest first. Columns: batch_id, status ('added' or 'undone'), kind, rows, partner,
    uploaded_by, uploaded_at, undone_by, undone_at, original_name, file_sha256."""
    rows = []
    for status, folders in (("added", committed(pack)), ("undone", undone(pack))):
        for folder in folders:
            manifest = read_manifest(folder)
            note = read_manifest(folder, UNDO_NOTE) if status == "undone" else {}
            batch_id = folder.name.removeprefix(UNDONE_PREFIX)
            rows.append({**{c: manifest.get(c) for c in AUDIT_COLUMNS}, **note, "batch_id": batch_id,
                         "status": status})
    frame = pd.DataFrame(rows, columns=AUDIT_COLUMNS).sort_values("batch_id", ascending=False)
    text = [c for c in AUDIT_COLUMNS if c != "rows"]
    frame[text] = frame[text].fillna("").astype(str)
    return frame.reset_index(drop=True)

