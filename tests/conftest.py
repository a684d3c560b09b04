"""Shared fixtures: stores built from the tiny hand-checkable pack and from the demonstration pack."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from streamlit import config as streamlit_config

from analytics.build import build
from analytics.config import DEMO_PACK
from analytics.db import Store
from tests.packs import write_tiny_pack


# The shipped config hides every error detail from viewers (issue 19: client.showErrorDetails = "none"), which would
# hide them from a failing test too; tests see the real exception (test_hardening checks what viewers see).
streamlit_config.set_option("client.showErrorDetails", "full")


def unsuppressed(db: Path) -> Store:
    """The built store with its threshold set to 0, so every count is visible for hand-worked checks. A pack may
    not ask for 0 (pack.toml accepts 1 to 100, issue 19), so tests set it in the store after the build."""
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE meta SET value = '0' WHERE key = 'suppress_below'")
    return Store(db)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Store:
    """The tiny pack with suppression off (threshold 0), so every count is visible for hand-worked checks."""
    folder = tmp_path_factory.mktemp("tiny")
    build(write_tiny_pack(folder / "pack"), folder / "store.duckdb")
    return unsuppressed(folder / "store.duckdb")


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
def tiny_env(tmp_path_factory):
    """Pages run (AppTest) on the tiny pack, with a store of its own for each module that asks."""
    folder = tmp_path_factory.mktemp("tiny_env")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REACH_PACK", str(write_tiny_pack(folder / "pack")))
        mp.setenv("REACH_DB", str(folder / "store.duckdb"))
        yield folder


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    """Pages run (AppTest) on the demonstration pack, with one store for every module that asks."""
    if not (DEMO_PACK / "pack.toml").is_file():
        pytest.fail("data/demo is missing: run python -m analytics.demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REACH_PACK", str(DEMO_PACK))
        mp.setenv("REACH_DB", str(tmp_path_factory.getbasetemp() / "pages_demo.duckdb"))
        yield
