"""The editable codebook (codebook.csv in the pack: theme, phrases separated by ;), and keeping a proposed theme.

An editor names a topic discovery proposed and keeps it with the phrases that find it; the codebook is written
whole beside the old one and swapped in with one rename (under the ledger's lock, so it never interleaves with an
upload), then the store is rebuilt so every comment is coded with it. Until the first keep the built-in codebook
(analytics.insight.themes.DEFAULT_CODEBOOK) is written out, so the file always holds every theme in use.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from analytics.build import ensure_store
from analytics.insight import themes
from analytics.ledger import ledger_lock
from analytics.schema import CODEBOOK, hidden_character, read_csv

MAX_THEME, MAX_PHRASES = 80, 30


class CodebookRefused(ValueError):
    """The theme cannot be kept as given; the message says what to change."""


def current(pack: Path) -> dict[str, tuple[str, ...]]:
    """The pack's codebook, or the built-in one when the pack has none."""
    file = Path(pack) / CODEBOOK.name
    frame = read_csv(file, CODEBOOK)[0] if file.is_file() else None
    return themes.codebook_from(frame)


def _checked(theme: str, phrases: list[str]) -> tuple[str, list[str]]:
    name = " ".join(str(theme).split())
    kept = [" ".join(p.split()).lower() for p in phrases if p.strip()]
    if not name or len(name) > MAX_THEME or ";" in name or hidden_character(name):
        raise CodebookRefused(f"Give the theme a name of up to {MAX_THEME} plain characters, without ';'.")
    if not kept or len(kept) > MAX_PHRASES or any(";" in p or hidden_character(p) for p in kept):
        raise CodebookRefused(f"Give from 1 to {MAX_PHRASES} phrases that find the theme, one per line.")
    return name, kept


def keep(pack: Path, db: Path, theme: str, phrases: list[str]) -> dict[str, tuple[str, ...]]:
    """Add (or replace) `theme` with `phrases` in the pack's codebook and rebuild the store; returns the codebook."""
    name, kept = _checked(theme, phrases)
    pack = Path(pack)
    with ledger_lock(pack):
        book = current(pack)
        book[name] = tuple(kept)
        frame = pd.DataFrame({"theme": list(book), "phrases": [";".join(p) for p in book.values()]})
        target = pack / CODEBOOK.name
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        frame.to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, target)
        ensure_store(pack, db)
    return book
