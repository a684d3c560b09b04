"""A process-wide result cache shared by every session.

Why not `st.cache_data`: it hashes every argument with Streamlit's hasher and unpickles a copy on every hit,
which cost a page ~60% of its script time once its results were cached (bench/results.md). Our keys are
already plain tuples (function, store fingerprint, filter values), so a dict look-up is enough. Hits return
shallow copies: pandas 3's copy-on-write makes a shallow copy safe to modify without touching the cached one.
"""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

import pandas as pd


class SharedCache:
    """Least-recently-used results by key, at most `max_entries`; each key is computed once even when many
    sessions ask for it at the same moment (a hall opening the same page)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return _fresh(self._values[key])
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:  # the first caller computes; the others wait for it instead of computing it again
            with self._lock:
                if key in self._values:
                    return _fresh(self._values[key])
            try:
                value = make()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            with self._lock:
                self._values[key] = value
                self._computing.pop(key, None)
                while len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
        return _fresh(value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)


def _fresh(value: Any) -> Any:
    """A copy a caller may change without changing the cached value (cheap: no data is copied)."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy(deep=False)
    if isinstance(value, (dict, list)):
        return copy.copy(value)
    return value
