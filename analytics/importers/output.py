"""Write the pack into a hidden sibling folder, then swap it into place: never a half-written pack.

Ledger files (activities, responses, panel, priorities) already in the folder being replaced hold the
partnership's own records; they are carried into the new pack unchanged rather than emptied, and so is anything
else in it that the importer does not write (uploaded batches, saved mappings).
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd

from analytics.importers.errors import MAX_CODES_LISTED, PackImportError, Report, ScotlandImportError
from analytics.pack import file_problems

LEDGER_HEADERS = {
    "activities.csv": "activity_id,title,method,partner,start_date,end_date,locality,area_code,mode,participants,"
                      "communities",
    "responses.csv": "response_id,activity_id,submitted_on,area_code,sex,age_band,communities,priorities",
    "priorities.csv": "code,label",
}
KEPT_FILES = ("activities.csv", "responses.csv", "priorities.csv", "panel.csv")
KEPT_HIDDEN = (".cell_key",)  # analytics.build writes it into the pack once


def toml_text(meta: dict[str, object]) -> str:
    """pack.toml from str, int, bool and list-of-str values (no third-party writer needed)."""
    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, list):
            return "[\n" + "".join(f"  {value(x)},\n" for x in v) + "]"
        text = str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{text}"'
    return "".join(f"{key} = {value(v)}\n" for key, v in meta.items())


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


@contextmanager
def staged(out: Path, report: Report) -> Iterator[Path]:
    """Yield an empty staging folder beside `out`; on success swap it in, on any error remove it."""
    out = out.resolve()
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.with_name(f".{out.name}.importing-{os.getpid()}")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
        _keep_ledger(out, stage, report)
        _swap(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ScotlandImportError(f"--out {out} is a file; give a folder for the pack.")
    if out.is_dir() and any(out.iterdir()) and not (out / "pack.toml").is_file():
        raise ScotlandImportError(f"--out {out} is a folder that is not an area pack (no pack.toml); it is left "
                                  "alone. Give a new or empty folder, or an existing pack to replace.")


def _keep_ledger(out: Path, stage: Path, report: Report) -> None:
    for name in KEPT_FILES:
        old = out / name
        if old.is_file() and len(old.read_text(encoding="utf-8-sig").strip().splitlines()) > 1:
            shutil.copy2(old, stage / name)
            report.info(f"kept the existing {name} from {out} (it holds the partnership's records)")
    # Anything else the importer does not write is the partnership's too: uploaded batches (ledger_batches/,
    # with their original files and audit trail), saved column mappings, notes of its own.
    # The build's cell-key secret (.cell_key) is kept too: a new secret would re-draw every perturbed count.
    for old in sorted(out.iterdir()) if out.is_dir() else ():
        if not (stage / old.name).exists() and (not old.name.startswith(".") or old.name in KEPT_HIDDEN):
            (shutil.copytree if old.is_dir() else shutil.copy2)(old, stage / old.name)
            report.info(f"kept {old.name} from {out} (not made by the importer)")


def _swap(stage: Path, out: Path) -> None:
    """Rename the old pack aside, move the new one in, then delete the old one."""
    aside = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, aside)
    try:
        os.replace(stage, out)
    except OSError:
        if aside.exists():
            os.replace(aside, out)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def write_ledger_headers(stage: Path) -> None:
    for name, header in LEDGER_HEADERS.items():
        (stage / name).write_text(header + "\n", encoding="utf-8")


def write_pack(out: Path, meta: dict[str, object], geojson: str, tables: dict[str, pd.DataFrame],
               report: Report) -> dict[str, int]:
    with staged(Path(out), report) as stage:
        (stage / "pack.toml").write_text(toml_text(meta), encoding="utf-8")
        (stage / "areas.geojson").write_text(geojson, encoding="utf-8")
        for name, frame in tables.items():
            write_csv(frame, stage / name)
        write_ledger_headers(stage)
        refuse_if_invalid(stage)
        sizes = {p.name: p.stat().st_size for p in sorted(stage.iterdir())}
    return sizes


def refuse_if_invalid(stage: Path) -> None:
    """The pack's own checks (analytics.pack, the same as a build and an upload) on the files written, before they
    replace anything: a value such as inf or 1e30 from an input file stops the import instead of the build."""
    problems = file_problems(stage)
    if problems:
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_CODES_LISTED])
        more = f"\n  … and {len(problems) - MAX_CODES_LISTED} more" if len(problems) > MAX_CODES_LISTED else ""
        raise ScotlandImportError(f"The pack would break the data contract in {len(problems)} place(s); fix the "
                                  f"input files they come from:\n{shown}{more}")


def command(options: Any, run: Callable[[Any, Report], dict[str, int]]) -> int:
    """An importer's command line: run it, print what it wrote, or the error and that nothing was (exit 2)."""
    report = Report()
    started = time.perf_counter()
    try:
        sizes = run(options, report)
    except PackImportError as exc:
        print(f"ERROR: {exc}\nNothing was written; {options.out} is unchanged.", file=sys.stderr)
        return 2
    print(f"Wrote the area pack {options.out} in {time.perf_counter() - started:.1f} s:")
    for name, size in sizes.items():
        print(f"  {name:<20} {size:>12,} bytes")
    print(f"{len(report.warnings)} warning(s), {len(report.notes)} note(s) (the notes are in pack.toml).")
    return 0
