"""Area pack + ledger → DuckDB store, validated and all-or-nothing.

`python -m analytics.build --pack PATH [--db PATH]` validates, then writes a new store beside the old one and
swaps it in with one atomic rename: a failure anywhere leaves the previous store exactly as it was, and
building the same input twice gives the same tables.
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import secrets
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from analytics import config
from analytics import precompute as first_runs
from analytics.db import SQL_DIR
from analytics.disclosure import record_key_sql
from analytics.geo import geometry_tables
from analytics.insight import store as insight_store
from analytics.pack import Pack, content_hash, load_pack
from analytics.schema import ALL_FILES, PackInvalid, split_list

# Bridge tables for ';'-separated lists, so SQL can join on single values.
BRIDGES = (("activities", "activity_id", "communities", "activity_communities", "community"),
           ("responses", "response_id", "communities", "response_communities", "community"),
           ("responses", "response_id", "priorities", "response_priorities", "priority"))
STORE_VERSION = "1"
_HERE = Path(__file__).parent
# The queries whose answers become build notes (in meta's `notes`, shown on About the data).
NOTE_QUERIES = ("need_gradient_normalised", "projection_localities_published", "projection_locality_gaps")
BUILD_SOURCES = [_HERE / f"{m}.py" for m in ("build", "pack", "schema", "geo")] + list(SQL_DIR.glob("stg_*.sql")) + list(
    SQL_DIR.glob("macro_*.sql")) + [SQL_DIR / f"{q}.sql" for q in NOTE_QUERIES] + list(
    (_HERE / "insight").glob("*.py")) + list(SQL_DIR.glob("insight_*.sql"))  # issue 22: themes are built here
# Created in this order, since later ones read earlier ones. Small or often-read staging results are
# materialised as tables (the store is rebuilt whenever the pack changes, so they cannot go stale); the
# projection by area, variant, year, sex and band would be tens of millions of rows at national scale, so it
# stays a view.
STAGING_VIEWS = ("stg_partnership_projection", "stg_locality_projection", "stg_area_share", "stg_need_gradient",
                 "stg_area_need_rate", "stg_area_projection_target", "stg_area_projection", "stg_response")
MATERIALISED = {"stg_area_share", "stg_need_gradient", "stg_area_need_rate", "stg_area_projection_target",
                "stg_response"}
# A gradient whose residents-weighted mean is within this of 1 is taken as normalised (floating-point noise).
GRADIENT_TOLERANCE = 1e-6
# Issue 19: a build killed half way leaves `.<store>.<pid>.building` (and DuckDB's .wal beside it). Under the build
# lock no other build of the store runs, so one whose process is gone, or that has not been written to for this
# long (a process id can be reused), is removed.
STALE_BUILD_SECONDS = 600


def build(pack_path: Path, db_path: Path, precompute: bool | None = None, workers: int = 1) -> dict[str, int]:
    """Validate the pack and (re)build the store; return the row count of each table. With `precompute` (default:
    $REACH_PRECOMPUTE) every page's first-run results are computed into the store before it is swapped in (issue 21:
    analytics/precompute.py), using `workers` processes."""
    pack = load_pack(Path(pack_path))
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.building")
    tmp.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(tmp)) as con:
            counts = write_store(con, pack)
        if first_runs.enabled() if precompute is None else precompute:  # on the finished store, before the swap
            counts["precomputed"] = int(first_runs.precompute(tmp, workers)["stored"])
        os.replace(tmp, db_path)  # atomic on one filesystem: readers see the old store or the new, never a mix
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def write_store(con: duckdb.DuckDBPyConnection, pack: Pack) -> dict[str, int]:
    # Issue 22: free text (comments), stories (consent) and the codebook reach the store only through insight_store.
    public = {name: frame for name, frame in pack.tables.items() if name not in insight_store.PRIVATE}
    tables = {"areas": pack.areas, "age_bands": _age_bands(), **public, **_bridges(pack.tables),
              **geometry_tables(pack.geojson, pack.areas)}
    counts = {name: len(pack.tables[name]) for name in insight_store.PRIVATE}
    for name, frame in tables.items():
        _write_table(con, name, frame)
        counts[name] = len(frame)
    _write_table(con, "meta", _meta(pack))
    _record_keys(con, pack)
    for view in STAGING_VIEWS:  # cleaned sources that the questions build on
        kind = "TABLE" if view in MATERIALISED else "VIEW"
        con.execute(f"CREATE {kind} {view} AS {_sql(view)}")
    for macro in sorted(SQL_DIR.glob("macro_*.sql")):  # table macros: one definition of the filters
        con.execute(macro.read_text(encoding="utf-8"))
    counts.update(insight_store.write(con, pack.tables, int(pack.meta["suppress_below"])))
    notes = build_notes(con)
    if notes:  # staging reads meta (name, base year), so the notes it gives rise to are added afterwards
        _write_table(con, "meta", _meta(pack, notes), replace=True)
    return counts


# Issue 18: each record's key for cell-key perturbation (analytics/disclosure.py), from its id and the pack's secret.
RECORD_KEYS = (("response_keys", "responses", "response_id", "response"),
               ("activity_keys", "activities", "activity_id", "activity"),
               ("panel_keys", "panel", "member_id", "member"))


def _record_keys(con: duckdb.DuckDBPyConnection, pack: Pack) -> None:
    secret = cell_key_secret(pack)
    for table, source, column, kind in RECORD_KEYS:  # every ledger table exists, empty when not given
        con.execute(f"CREATE TABLE {table} AS SELECT {column}, {record_key_sql(column, kind)} AS rkey FROM {source}",
                    {"secret": secret})


def cell_key_secret(pack: Pack) -> str:
    """pack.toml's `cell_key_secret`, else the pack's `.cell_key` file, made once with a random secret: the same
    secret on every build keeps every published count the same from day to day (a new one would re-draw them, and
    averaging the draws would undo the protection). A pack folder that cannot be written falls back to a secret
    derived from its name, with a build note."""
    if "cell_key_secret" in pack.meta:
        return str(pack.meta["cell_key_secret"])
    file = pack.path / ".cell_key"
    if not file.is_file():
        try:
            file.write_text(secrets.token_hex(32), encoding="utf-8")
            file.chmod(0o600)
        except OSError:
            return hashlib.sha256(f"reach-need:{pack.meta['name']}".encode()).hexdigest()
    return file.read_text(encoding="utf-8").strip()


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def build_notes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What the build did to the pack's figures that an editor should know: gradients normalised, locality
    projections used as published (and where they disagree with the partnership's)."""
    return _gradient_notes(con) + _locality_projection_notes(con)


def _gradient_notes(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(_sql("need_gradient_normalised"), {"tolerance": GRADIENT_TOLERANCE}).fetchall()
    return [f"The need gradient for '{indicator}' (quintiles 1-5: {_rates(published)}) had a mean of {mean:.4g}, "
            "weighted by base-year residents per deprivation quintile, where 1 is expected; the build divides it by "
            f"that mean ({_rates(normalised)}) so that it moves need between quintiles without adding to it."
            for indicator, mean, published, normalised in rows]


def _rates(values: list[float]) -> str:
    return ", ".join(f"{v:.3g}" for v in values)


def _locality_projection_notes(con: duckdb.DuckDBPyConnection) -> list[str]:
    notes = []
    for locality, rows, used in con.execute(_sql("projection_localities_published")).fetchall():
        notes.append(f"Projections for {locality} are used as published ({used:,} rows); its small areas share "
                     "them, and the localities without their own projection share the partnership's less the "
                     "published localities'." + (f" {rows - used:,} rows for a variant, year, sex or age band the "
                                                 "partnership's projection lacks are not used." if rows > used else ""))
    if notes:
        [(over, all_gap)] = con.execute(_sql("projection_locality_gaps")).fetchall()
        if over:
            notes.append(f"In {over:,} variant × year × sex × age band cells the published locality projections add "
                         "up to more than the partnership's, so the other localities are projected at 0 there.")
        if all_gap > 0.5:
            notes.append("Every locality's projection is published, but their sum differs from the partnership's by "
                         f"up to {all_gap:,.0f} people in a cell; the partnership's figures shown are their sum.")
    return notes


def _write_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, replace: bool = False) -> None:
    # Sorted on every column so that the same input always gives the same table, row for row.
    ordered = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True) if len(frame) else frame
    con.register("incoming", ordered)
    con.execute(f'CREATE {"OR REPLACE " if replace else ""}TABLE "{name}" AS SELECT * FROM incoming')
    con.unregister("incoming")


def _age_bands() -> pd.DataFrame:
    return pd.DataFrame({"age_band": list(config.AGE_BANDS), "band_order": range(len(config.AGE_BANDS)),
                         "lower_age": [config.band_lower(b) for b in config.AGE_BANDS]})


def _bridges(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    out = {}
    for source, key, column, name, value in BRIDGES:
        frame = tables[source][[key, column]].assign(**{column: lambda f: split_list(f[column])})
        out[name] = frame.explode(column).dropna().rename(columns={column: value}).drop_duplicates()
    return out


def _meta(pack: Pack, notes: list[str] | None = None) -> pd.DataFrame:
    # Lists (the importer's notes) are kept one item per line; the build's own notes follow the pack's.
    meta = {k: v for k, v in pack.meta.items() if k != "cell_key_secret"}  # never in the store viewers read
    if notes:
        given = meta.get("notes") or []
        meta["notes"] = (given if isinstance(given, list) else [given]) + notes
    items = {**{k: "\n".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in meta.items()},
             "pack_hash": fingerprint(pack.path),
             "store_version": STORE_VERSION}
    return pd.DataFrame(sorted(items.items()), columns=["key", "value"])


@contextmanager
def _build_lock(db_path: Path) -> Iterator[None]:
    """Serialise builds of one store across processes (several app servers may start at once)."""
    lock = db_path.with_name(f".{db_path.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def fingerprint(pack_path: Path) -> str:
    """Pack content plus the code that shapes the store: a change to either triggers a rebuild."""
    digest = hashlib.sha256(content_hash(pack_path).encode())
    for source in sorted(BUILD_SOURCES):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def stored_hash(db_path: Path) -> str | None:
    """The pack fingerprint the store was built from, or None when there is no usable store."""
    if not db_path.is_file():
        return None
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'pack_hash'").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def remove_stale_builds(db_path: Path, now: float | None = None) -> list[str]:
    """Remove the half-written stores of builds that were killed; call it holding the build lock. Returns the
    names removed."""
    now = time.time() if now is None else now
    removed = []
    for file in Path(db_path).parent.glob(f".{Path(db_path).name}.*.building*"):
        pid = file.name.removeprefix(f".{Path(db_path).name}.").split(".")[0]
        try:
            idle = now - file.stat().st_mtime
        except FileNotFoundError:
            continue
        if not pid.isdigit() or not _running(int(pid)) or idle > STALE_BUILD_SECONDS:
            file.unlink(missing_ok=True)
            removed.append(file.name)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def ensure_store(pack_path: Path, db_path: Path) -> bool:
    """Build the store if it is missing or was built from other pack content; True when it built."""
    with _build_lock(db_path):
        remove_stale_builds(db_path)
        if stored_hash(db_path) == fingerprint(pack_path):
            return False
        build(pack_path, db_path)
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.build", description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, default=config.pack_dir(), help="area pack folder")
    parser.add_argument("--db", type=Path, default=None, help="store file (default: $REACH_DB or data/<pack>.duckdb)")
    parser.add_argument("--no-precompute", action="store_true", help="skip computing every page's first run into "
                        "the store (faster build; a fresh server then computes them on first use)")
    parser.add_argument("--workers", type=int, default=first_runs.default_workers(), help="processes to precompute with")
    args = parser.parse_args(argv)
    db = args.db or config.db_path()
    started = time.perf_counter()
    try:
        with _build_lock(db):
            remove_stale_builds(db)
            counts = build(args.pack, db, precompute=not args.no_precompute, workers=args.workers)
    except PackInvalid as exc:
        print(f"The pack at {args.pack} was not loaded. {exc}", file=sys.stderr)
        print(f"The store {db} is unchanged. Fix the problems above and run the command again.", file=sys.stderr)
        return 2
    except Exception as exc:  # issue 19: not a problem with the pack's values (those are PackInvalid, exit 2)
        message = " ".join(str(exc).split())[:300]
        print(f"The store {db} is unchanged: the build failed ({type(exc).__name__}: {message}).", file=sys.stderr)
        return 1
    print(f"Built {db} from {args.pack} in {time.perf_counter() - started:.1f} s:")
    for name in [s.table_name for s in ALL_FILES] + ["areas"] + (["precomputed"] if "precomputed" in counts else []):
        print(f"  {name:<16} {counts.get(name, 0):>10,} rows")
    with duckdb.connect(str(db), read_only=True) as con:  # the notes the store keeps, asked again to print them
        for note in build_notes(con):
            print(f"Note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
