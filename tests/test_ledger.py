"""Batches in the ledger: a commit is all-or-nothing (even under SIGKILL), serialised between editors, refused for a
file already added, and undone exactly; load_pack reads committed batches as ledger and names their rows."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from analytics import ledger, mapping, upload
from analytics.batches import BATCH_ID, committed
from analytics.build import ensure_store
from analytics.db import Store
from analytics.pack import content_hash, load_pack
from analytics.schema import PackInvalid
from tests.packs import write_tiny_pack

ROOT = Path(__file__).resolve().parents[1]
HEADER = "response_id,activity_id,submitted_on,area_code,sex,age_band,communities,priorities\n"


@pytest.fixture
def env(tmp_path) -> tuple[Path, Path]:
    """A copy of the tiny pack and its store: every write test writes here, never into data/demo."""
    pack = write_tiny_pack(tmp_path / "pack")
    db = tmp_path / "store.duckdb"
    ensure_store(pack, db)
    return pack, db


def responses(tag: str, count: int) -> bytes:
    return (HEADER + "".join(f"{tag}{i},X1,2025-01-10,A1,F,45-49,,\n" for i in range(count))).encode()


def prepare(db: Path, data: bytes, kind: str = "responses") -> upload.Prepared:
    raw = upload.read_upload(data)
    store = Store(db)
    try:
        return upload.prepare(raw, kind, mapping.guess_columns(list(raw.frame.columns), kind), upload.lookups(store))
    finally:
        store.close()


def commit(pack: Path, db: Path, data: bytes) -> dict:
    return ledger.commit(pack, db, prepare(db, data), data, original_name="export.csv", uploaded_by="lead",
                         partner="HSCP")


def tables(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}


def stored_responses(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM responses").fetchone()[0]


def pack_files(pack: Path) -> dict[str, bytes]:
    return {str(p.relative_to(pack)): p.read_bytes() for p in sorted(pack.rglob("*")) if p.is_file()
            and p.name != ".lock"}


def test_commit_writes_a_complete_batch_and_rebuilds_the_store(env):
    pack, db = env
    data = responses("N", 3)
    manifest = commit(pack, db, data)
    assert BATCH_ID.match(manifest["batch_id"])
    folder = pack / "ledger_batches" / manifest["batch_id"]
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "original.csv", "responses.csv"]
    assert (folder / "original.csv").read_bytes() == data
    saved = json.loads((folder / "manifest.json").read_text())
    assert {k: saved[k] for k in ("kind", "rows", "partner", "uploaded_by", "original_name")} == {
        "kind": "responses", "rows": 3, "partner": "HSCP", "uploaded_by": "lead", "original_name": "export.csv"}
    assert saved["uploaded_at"].endswith("Z") and len(saved["file_sha256"]) == 64
    assert saved["mapping"]["columns"]["response_id"] == "response_id"
    assert stored_responses(db) == 11
    assert len(load_pack(pack).tables["responses"]) == 11
    with duckdb.connect(str(db), read_only=True) as con:  # each row records its batch (optional column)
        tagged = con.execute("SELECT count(*) FROM responses WHERE batch_id = ?", [manifest["batch_id"]]).fetchone()
    assert tagged == (3,)


def test_the_users_file_name_is_never_a_path(env):
    pack, db = env
    manifest = ledger.commit(pack, db, prepare(db, responses("N", 1)), responses("N", 1),
                             original_name="../../../etc/passwd\x00.csv", uploaded_by="lead", partner="HSCP")
    assert manifest["original_name"] == "passwd.csv"
    assert manifest["original_file"] == "original.csv"
    assert not (pack.parent / "etc").exists()


def test_the_same_file_twice_is_refused_naming_the_earlier_batch(env):
    pack, db = env
    data = responses("N", 2)
    first = commit(pack, db, data)
    with pytest.raises(ledger.LedgerRefused) as caught:
        commit(pack, db, data)
    message = str(caught.value)
    assert f"already added as batch {first['batch_id']} by lead on {first['uploaded_at']}" in message
    assert len(committed(pack)) == 1 and stored_responses(db) == 10


def test_undo_restores_the_previous_store_exactly(env):
    pack, db = env
    before, hash_before = tables(db), content_hash(pack)
    manifest = commit(pack, db, responses("N", 4))
    assert tables(db) != before
    undone = ledger.undo_last(pack, db, "lead")
    assert undone["batch_id"] == manifest["batch_id"]
    assert tables(db) == before
    assert content_hash(pack) == hash_before
    log = ledger.audit(pack)
    assert log.loc[0, "status"] == "undone" and log.loc[0, "undone_by"] == "lead"
    assert (pack / "ledger_batches" / f".undone-{manifest['batch_id']}" / "responses.csv").is_file()
    with pytest.raises(ledger.LedgerRefused, match="no added batch to undo"):
        ledger.undo_last(pack, db, "lead")
    commit(pack, db, responses("N", 4))  # an undone file may be added again
    assert stored_responses(db) == 12


def test_undo_takes_the_last_batch_only(env):
    pack, db = env
    first = commit(pack, db, responses("A", 2))
    second = commit(pack, db, responses("B", 3))
    assert second["batch_id"] > first["batch_id"]
    assert ledger.undo_last(pack, db, "lead")["batch_id"] == second["batch_id"]
    assert stored_responses(db) == 10
    assert list(ledger.audit(pack)["status"]) == ["undone", "added"]


def test_a_failed_commit_after_writing_the_tmp_folder_leaves_store_and_pack_unchanged(env, monkeypatch):
    pack, db = env
    files, store_bytes = pack_files(pack), db.read_bytes()
    seen = []

    def fail(source: Path, target: Path) -> None:
        seen.append(sorted(p.name for p in source.iterdir()))
        raise OSError("disk full (injected)")

    monkeypatch.setattr(ledger, "_publish", fail)
    with pytest.raises(OSError, match="injected"):
        commit(pack, db, responses("N", 3))
    assert seen == [["manifest.json", "original.csv", "responses.csv"]]  # the tmp folder was complete
    assert pack_files(pack) == files
    assert [p.name for p in (pack / "ledger_batches").iterdir()] == [".lock"]
    assert db.read_bytes() == store_bytes


def test_a_failed_rebuild_takes_the_batch_back_out(env, monkeypatch):
    pack, db = env
    files, store_bytes = pack_files(pack), db.read_bytes()

    def fail(pack_path, db_path):
        raise OSError("no space for the new store (injected)")

    monkeypatch.setattr(ledger, "ensure_store", fail)
    with pytest.raises(OSError, match="injected"):
        commit(pack, db, responses("N", 3))
    assert pack_files(pack) == files and db.read_bytes() == store_bytes
    assert committed(pack) == []


def test_a_batch_that_breaks_the_ledger_is_refused_with_its_rows(env):
    pack, db = env
    data = (HEADER + "R1,X1,2025-01-10,A1,F,45-49,,\nN2,X9,2025-01-10,A1,F,45-49,,\n").encode()
    prepared = prepare(db, data)
    found = [str(p) for p in ledger.check(pack, prepared)]
    assert any("row 2, column 'response_id': value 'R1' — duplicate response_id: already in the ledger" in m
               for m in found), found
    assert any("row 3, column 'activity_id': value 'X9' — expected a known activity_id" in m for m in found), found
    with pytest.raises(ledger.LedgerRefused) as caught:  # commit checks again, under the lock
        ledger.commit(pack, db, prepared, data, original_name="x.csv", uploaded_by="lead", partner="HSCP")
    assert len(caught.value.problems) == 2
    assert committed(pack) == [] and not list((pack / "ledger_batches").glob(".tmp-*"))


def test_load_pack_reads_batches_in_order_and_names_their_rows(env):
    pack, db = env
    first = commit(pack, db, responses("A", 2))
    commit(pack, db, responses("B", 1))
    frame = load_pack(pack).tables["responses"]
    assert list(frame["response_id"][-3:]) == ["A0", "A1", "B0"]
    assert set(frame["batch_id"][:8]) == {""}
    # A hand edit to the base file that now clashes with a batch is reported at the batch's own row.
    base = pack / "responses.csv"
    base.write_text(base.read_text() + "A1,X1,2025-01-10,A1,F,45-49,,\n")
    with pytest.raises(PackInvalid) as caught:
        load_pack(pack)
    assert [str(p) for p in caught.value.problems] == [
        f"ledger_batches/{first['batch_id']}/responses.csv, row 3, column 'response_id': value 'A1' — duplicate "
        "response_id: already in the ledger (responses.csv, row 10); each must appear once (remove the repeated row)"]


def test_leftover_tmp_folders_are_ignored_and_cleaned_by_the_next_commit(env):
    pack, db = env
    leftover = pack / "ledger_batches" / ".tmp-B20250101T000000000000Z-abcdef"
    leftover.mkdir(parents=True)
    (leftover / "responses.csv").write_text("not,a,ledger\n")
    assert len(load_pack(pack).tables["responses"]) == 8
    hash_before = content_hash(pack)
    assert content_hash(pack) == hash_before
    commit(pack, db, responses("N", 1))
    assert not leftover.exists()


def test_content_hash_follows_batches(env):
    pack, db = env
    before = content_hash(pack)
    commit(pack, db, responses("N", 1))
    assert content_hash(pack) != before
    ledger.undo_last(pack, db, "lead")
    assert content_hash(pack) == before


def test_batch_ids_sort_in_the_order_added_even_if_the_clock_goes_back():
    from datetime import datetime, timezone
    later = ledger.new_batch_id(now=datetime(2025, 6, 1, tzinfo=timezone.utc))
    earlier_clock = ledger.new_batch_id(after=later, now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert BATCH_ID.match(later) and BATCH_ID.match(earlier_clock)
    assert earlier_clock > later


# --- real processes ------------------------------------------------------------------------------------------

CHILD = """
import sys
from pathlib import Path
from analytics import ledger, mapping, upload
from analytics.db import Store
pack, db, tag, count = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
data = ("{header}" + "".join(f"{{tag}}{{i}},X1,2025-01-10,A1,F,45-49,,\\n" for i in range(count))).encode()
raw = upload.read_upload(data)
store = Store(db)
lookups = upload.lookups(store)
store.close()
prepared = upload.prepare(raw, "responses", mapping.guess_columns(list(raw.frame.columns), "responses"), lookups)
go = Path(sys.argv[5]) if len(sys.argv) > 5 else None
print("ready", flush=True)
while go is not None and not go.exists():
    pass
manifest = ledger.commit(pack, db, prepared, data, original_name="big.csv", uploaded_by=tag, partner="HSCP")
print("done", manifest["batch_id"], flush=True)
""".format(header=HEADER.replace("\n", "\\n"))


def start_child(pack: Path, db: Path, tag: str, count: int, go: Path | None = None) -> subprocess.Popen:
    args = [sys.executable, "-c", CHILD, str(pack), str(db), tag, str(count)] + ([str(go)] if go else [])
    child = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout.readline().strip() == "ready", child.stderr.read()
    return child


def test_sigkill_during_a_commit_leaves_a_consistent_pack_and_store(env):
    pack, db = env
    count = 5000
    child = start_child(pack, db, "T", count)
    started = time.perf_counter()
    assert child.wait(timeout=120) == 0, child.stderr.read()
    duration = time.perf_counter() - started  # one whole commit: killing at fractions of it covers each stage
    child.stdout.close()
    child.stderr.close()
    rng = random.Random(7)
    for round_, fraction in enumerate((0.1, 0.4, 0.7, 1.0)):  # before the rename, during the rebuild…
        before = len(load_pack(pack).tables["responses"])
        store_before = stored_responses(db)
        child = start_child(pack, db, f"K{round_}-", count)
        time.sleep(duration * fraction * rng.uniform(0.8, 1.2))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        child.stderr.close()
        after = len(load_pack(pack).tables["responses"])  # never raises: no half batch is ever read
        assert after in (before, before + count)
        assert stored_responses(db) in (store_before, store_before + count)  # the store file is always whole
        ensure_store(pack, db)
        assert stored_responses(db) == after
    commit(pack, db, responses("Z", 1))  # and the next commit goes through, cleaning up what was left
    assert not list((pack / "ledger_batches").glob(".tmp-*"))
    assert stored_responses(db) == len(load_pack(pack).tables["responses"])


def test_two_concurrent_commits_are_serialised_and_both_land(env, tmp_path):
    pack, db = env
    go = tmp_path / "go"
    children = [start_child(pack, db, tag, 2000, go) for tag in ("P", "Q")]
    go.touch()  # both start committing at once
    outputs = [c.communicate(timeout=120) for c in children]
    assert [c.returncode for c in children] == [0, 0], [o[1][-2000:] for o in outputs]
    ids = sorted(out.split()[1] for out, _ in outputs)
    assert len(set(ids)) == 2 and [p.name for p in committed(pack)] == ids
    assert len(load_pack(pack).tables["responses"]) == 8 + 4000
    assert stored_responses(db) == 8 + 4000
    assert set(ledger.audit(pack)["uploaded_by"]) == {"P", "Q"}
