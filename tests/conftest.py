"""Shared fixtures: stores built from the tiny hand-checkable pack and from the demonstration pack."""
from __future__ import annotations

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


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    """Pages run (AppTest) on the demonstration pack, with one store for every module that asks."""
    if not (DEMO_PACK / "pack.toml").is_file():
        pytest.fail("data/demo is missing: run python -m analytics.demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REACH_PACK", str(DEMO_PACK))
        mp.setenv("REACH_DB", str(tmp_path_factory.getbasetemp() / "pages_demo.duckdb"))
        yield
