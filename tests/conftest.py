"""Shared fixtures: stores built from the tiny hand-checkable pack and from the demonstration pack."""
from __future__ import annotations

from pathlib import Path

import pytest

from analytics.build import build
from analytics.config import DEMO_PACK
from analytics.db import Store
from tests.packs import FILES, write_tiny_pack


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Store:
    """The tiny pack with suppression off (threshold 0), so every count is visible for hand-worked checks."""
    folder = tmp_path_factory.mktemp("tiny")
    pack = write_tiny_pack(folder / "pack", {"pack.toml": FILES["pack.toml"].replace("suppress_below = 5",
                                                                                     "suppress_below = 0")})
    build(pack, folder / "store.duckdb")
    return Store(folder / "store.duckdb")


@pytest.fixture(scope="session")
def tiny_suppressed(tmp_path_factory) -> Store:
    """The tiny pack as written (threshold 5), where almost every count must be withheld."""
    folder = tmp_path_factory.mktemp("tiny5")
    build(write_tiny_pack(folder / "pack"), folder / "store.duckdb")
    return Store(folder / "store.duckdb")


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Store:
    if not (DEMO_PACK / "pack.toml").is_file():
        pytest.fail("data/demo is missing: run python -m analytics.demo")
    folder = tmp_path_factory.mktemp("demo")
    build(DEMO_PACK, folder / "store.duckdb")
    return Store(folder / "store.duckdb")
