"""The importer's error type and its running commentary (steps with elapsed time, warnings, notes)."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, TextIO

MAX_CODES_LISTED = 20


class PackImportError(Exception):
    """Input an importer cannot turn into a pack; the message says what to change. The CLI exits 2."""


# One error type serves every importer (the shared modules raise it whatever the country); the Scottish name is
# kept because the Scottish importer, its tests and callers already use it.
ScotlandImportError = PackImportError


def list_codes(codes: set[str] | list[str]) -> str:
    """'3: S01000001, S01000002, S01000003' — the count, then the first 20 codes in order."""
    ordered = sorted(codes)
    shown = ", ".join(ordered[:MAX_CODES_LISTED])
    more = f" … and {len(ordered) - MAX_CODES_LISTED} more" if len(ordered) > MAX_CODES_LISTED else ""
    return f"{len(ordered)}: {shown}{more}"


@dataclass
class Report:
    """Prints step names with elapsed time to stderr; collects warnings and method notes for the pack."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    quiet: bool = False
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def _print(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """`with report.step("reading boundaries"):` prints the step when it starts and when it is done."""
        began = time.perf_counter()
        self._print(f"[{began - self.started:6.1f} s] {name} …")
        yield
        self._print(f"[{time.perf_counter() - self.started:6.1f} s]   done ({time.perf_counter() - began:.1f} s)")

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self._print(f"WARNING: {text}")

    def note(self, text: str) -> None:
        """A statement about method that belongs in the pack (pack.toml `notes`) as well as on screen."""
        if text not in self.notes:
            self.notes.append(text)
            self._print(f"NOTE: {text}")

    def info(self, text: str) -> None:
        self._print(f"  {text}")
