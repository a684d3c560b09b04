"""The one analytics module that imports Streamlit: page setup, the cached store, cached results, URL filters.

Caching sits exactly here, at the boundary between pages and computation: results are cached per function,
arguments and store fingerprint, so every session shares them and a rebuilt store is never served stale.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import config, geo
from analytics.export import safe_csv
from analytics.build import ensure_store
from analytics.db import Store


# The PNG button draws the chart in the browser, so it works offline; no Plotly logo or cloud links.
PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


@st.cache_resource(show_spinner="Preparing the data store…")
def _store(pack: str, db: str) -> Store:
    ensure_store(config.pack_dir(), config.db_path())
    return Store(config.db_path())


def store() -> Store:
    return _store(str(config.pack_dir()), str(config.db_path()))


@st.cache_data(ttl=3600, max_entries=1024, show_spinner=False)
def _compute(module: str, name: str, pack_hash: str, kwargs: tuple) -> Any:
    function = getattr(importlib.import_module(module), name)
    return function(store(), **dict(kwargs))


def compute(function: Callable[..., Any], **kwargs: Any) -> Any:
    """Call an analytics function `function(store, **kwargs)` through the shared cache."""
    return _compute(function.__module__, function.__name__, meta()["pack_hash"], tuple(sorted(kwargs.items())))


def meta() -> dict[str, str]:
    return _meta(str(config.db_path()))


@st.cache_data(show_spinner=False)
def _meta(db: str) -> dict[str, str]:
    return store().meta()


def page_setup(title: str, icon: str = "📊") -> dict[str, str]:
    """Common page furniture: title, the synthetic-data banner, styles. Returns the pack's settings."""
    st.set_page_config(page_title=f"{title} · Reach & Need", page_icon=icon, layout="wide")
    info = meta()
    if info.get("synthetic", "False").lower() == "true":
        st.warning(f"**Demonstration data.** {info['name']} is fictional: every figure on this page is synthetic.",
                   icon="ℹ️")
    st.title(title)
    return info


def query_choice(key: str, options: Sequence[Any], default: Any, label: str,
                 widget: Callable[..., Any] = st.selectbox, **widget_args: Any) -> Any:
    """A filter held in the URL: read ?key=…, fall back (with a notice) when invalid, write the choice back."""
    as_text = {str(o): o for o in options}
    wanted = st.query_params.get(key)
    if wanted is not None and wanted not in as_text:
        st.info(f"The address asked for {label.lower()} '{wanted}', which is not available; showing "
                f"'{default}' instead.")
        wanted = None
    current = as_text[wanted] if wanted is not None else default
    choice = widget(label, list(options), index=list(options).index(current), key=f"filter_{key}", **widget_args)
    if choice == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = str(choice)
    return choice


def table(frame: pd.DataFrame, name: str, column_config: dict | None = None) -> None:
    """A table with its CSV download (text cells neutralised so a spreadsheet cannot run them)."""
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config)
    st.download_button("Download this table (CSV)", safe_csv(frame), file_name=f"{name}.csv", mime="text/csv",
                       key=f"download_{name}", icon=":material/download:")


def chart(fig: go.Figure, description: str, data: pd.DataFrame, name: str) -> None:
    """A chart, the sentence that describes it, and the numbers behind it one click away."""
    st.plotly_chart(fig, width="stretch", key=f"chart_{name}", config=PLOTLY_CONFIG)
    st.caption(description)
    with st.expander("The numbers behind this chart"):
        table(data, name)


def geojson(level: str = "area") -> dict:
    return compute(geo.feature_collection, level=level)
