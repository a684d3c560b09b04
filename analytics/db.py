"""Open the store read-only and run named queries from analytics/sql/ with bound parameters."""
from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

SQL_DIR = Path(__file__).with_name("sql")


class Store:
    """A read-only store; each thread gets its own cursor (DuckDB connections are not thread-safe)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._con = duckdb.connect(str(self.path), read_only=True)
        self._local = threading.local()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        if not hasattr(self._local, "cursor"):
            self._local.cursor = self._con.cursor()
        return self._local.cursor

    def query(self, name: str, **params: object) -> pd.DataFrame:
        """Run analytics/sql/<name>.sql with `$param` placeholders bound from keyword arguments."""
        return self.cursor().execute(sql(name), params).df()

    def meta(self) -> dict[str, str]:
        return dict(self.query("meta").itertuples(index=False, name=None))

    def close(self) -> None:
        self._con.close()


@cache
def sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
