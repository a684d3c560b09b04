"""Plotly figure builders. One palette (colour-blind safe), no tile base map (works offline), text on every
mark that carries meaning so colour is never the only cue."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from analytics.geo import MapLayer
from analytics.metrics import Metric

# Okabe–Ito qualitative palette and the Cividis sequential scale: both readable with colour-vision deficiency.
QUALITATIVE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SEQUENTIAL = "Cividis"
DIVERGING = "RdBu"
SEX_COLOURS = {"F": "#CC79A7", "M": "#0072B2"}
SEX_NAMES = {"F": "Women", "M": "Men"}
# Stevens' 3×3 bivariate scheme: rows need (low→high), columns reach (low→high).
BIVARIATE = (("#e8e8e8", "#ace4e4", "#5ac8c8"),
             ("#dfb0d6", "#a5add3", "#5698b9"),
             ("#be64ac", "#8c62aa", "#3b4994"))
FONT = dict(family="Source Sans Pro, sans-serif", size=14)


class SharedFigure(go.Figure):
    """A built figure sent to many sessions. Streamlit calls `to_dict` on every send, and plotly's deep-copies the
    whole figure each time: ~80% of sending a cached figure. Here the dict is made once, so the figure must not be
    changed after it is first sent."""

    def to_dict(self) -> dict:
        cached = self.__dict__.get("_shared_dict")
        if cached is None:
            cached = self.__dict__["_shared_dict"] = _json_ready(super().to_dict())
        return cached


def _json_ready(value: object) -> object:
    """Arrays of text (area codes, labels) as lists: orjson then writes the whole figure in one call, where an
    object array makes plotly fall back to cleaning every value in Python (most of a map's send time)."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":
        return value.tolist()
    return value


def shared(fig: go.Figure) -> SharedFigure:
    """The same figure as a SharedFigure (re-classed rather than copied: copying a map costs as much as building
    it, and SharedFigure adds nothing but the cached dict)."""
    fig.__class__ = SharedFigure
    return fig


def safe(values):
    """Names from the pack or the ledger as plotly must be given them: plotly reads <b>, <i>, <br> and
    <a href=…> in every title, label, legend and hover text, so &, < and > are written as entities, which plotly
    shows as typed (issue 19). A str or a Series (of text; other types are returned unchanged)."""
    if isinstance(values, str):
        return html.escape(values, quote=False)
    if isinstance(values, pd.Series) and (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return values.map(lambda v: safe(v) if isinstance(v, str) else v)
    return values


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(title=dict(text=safe(title), x=0, font=dict(size=16)), height=height, font=FONT,
                      margin=dict(l=10, r=10, t=50, b=10), paper_bgcolor="white", plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.15))
    return fig


def choropleth(layer: MapLayer, frame: pd.DataFrame, code: str, value: str, metric: Metric, title: str,
               hover_name: str | None = None) -> go.Figure:
    """A choropleth without a tile base map. Withheld values (NaN) are drawn grey and say so on hover."""
    shown = frame[frame[value].notna()]
    hidden = frame[frame[value].isna()]
    names = safe(shown[hover_name] if hover_name else shown[code])
    fig = go.Figure(go.Choroplethmap(
        geojson=layer.source, locations=shown[code], z=shown[value], featureidkey="id", colorscale=SEQUENTIAL,
        marker=dict(line=dict(width=0.3, color="white")), colorbar=dict(title=safe(metric.unit), thickness=12),
        text=names, hovertemplate="%{text}<br>" + safe(metric.label) + ": %{z:,.1f}<extra></extra>"))
    if len(hidden):
        fig.add_trace(go.Choroplethmap(
            geojson=layer.source, locations=hidden[code], z=[0] * len(hidden), featureidkey="id", showscale=False,
            colorscale=[[0, "#bdbdbd"], [1, "#bdbdbd"]], marker=dict(line=dict(width=0.3, color="white")),
            text=safe(hidden[hover_name] if hover_name else hidden[code]),
            hovertemplate="%{text}<br>" + safe(metric.label) + ": withheld (small number)<extra></extra>"))
    fig.update_layout(map=dict(style="white-bg", **layer.view))
    return _layout(fig, title, height=480)


def categorical_map(layer: MapLayer, frame: pd.DataFrame, code: str, category: str, colours: dict[str, str],
                    title: str, hover: pd.Series | None = None) -> go.Figure:
    """Discrete classes drawn with one trace each (a shared legend that names every class in words)."""
    fig = go.Figure()
    for label, colour in colours.items():
        part = frame[frame[category] == label]
        if part.empty:
            continue
        fig.add_trace(go.Choroplethmap(
            geojson=layer.source, locations=part[code], z=[1] * len(part), featureidkey="id", name=safe(label),
            showlegend=True, showscale=False, colorscale=[[0, colour], [1, colour]],
            marker=dict(line=dict(width=0.3, color="white")),
            text=safe(hover.loc[part.index] if hover is not None else part[code]),
            hovertemplate="%{text}<extra>" + safe(label) + "</extra>"))
    fig.update_layout(map=dict(style="white-bg", **layer.view))
    return _layout(fig, title, height=480)


def pyramid(frame: pd.DataFrame, title: str, overlay: pd.DataFrame | None = None,
            overlay_name: str = "", reference_name: str = "Partnership") -> go.Figure:
    """Age–sex pyramid of % shares (men to the left). `frame`: sex, age_band, share, partnership_share;
    `overlay` (optional): sex, age_band, share — e.g. the projected year, drawn as an outline."""
    fig = go.Figure()
    overlay_name, reference_name = safe(overlay_name), safe(reference_name)
    for sex, sign in (("M", -1), ("F", 1)):
        part = frame[frame["sex"] == sex]
        fig.add_trace(go.Bar(y=part["age_band"], x=sign * part["share"], orientation="h", name=SEX_NAMES[sex],
                             marker_color=SEX_COLOURS[sex], customdata=part["share"],
                             hovertemplate="%{y}: %{customdata:.1f}%<extra>" + SEX_NAMES[sex] + "</extra>"))
        fig.add_trace(go.Scatter(y=part["age_band"], x=sign * part["partnership_share"], mode="lines",
                                 line=dict(color="#000000", width=1.5, dash="dot", shape="hvh"),
                                 name=reference_name, showlegend=sex == "F", legendgroup="ref",
                                 hovertemplate="%{y}: %{x:.1f}%<extra>" + reference_name + "</extra>"))
        if overlay is not None:
            over = overlay[overlay["sex"] == sex]
            fig.add_trace(go.Scatter(y=over["age_band"], x=sign * over["share"], mode="lines+markers",
                                     line=dict(color="#D55E00", width=2), marker=dict(symbol="diamond", size=5),
                                     name=overlay_name, showlegend=sex == "F", legendgroup="overlay",
                                     hovertemplate="%{y}: %{x:.1f}%<extra>" + overlay_name + "</extra>"))
    top = max(frame["share"].max(), frame["partnership_share"].max(),
              overlay["share"].max() if overlay is not None else 0) * 1.15
    fig.update_layout(barmode="overlay", bargap=0.05,
                      xaxis=dict(title="% of residents (men left, women right)", range=[-top, top],
                                 tickvals=[-top * 0.66, -top * 0.33, 0, top * 0.33, top * 0.66],
                                 ticktext=[f"{top * 0.66:.1f}%", f"{top * 0.33:.1f}%", "0",
                                           f"{top * 0.33:.1f}%", f"{top * 0.66:.1f}%"]),
                      yaxis=dict(title="Age band", categoryorder="array", categoryarray=list(frame["age_band"])))
    return _layout(fig, title, height=520)


def lines(frame: pd.DataFrame, x: str, y: str, series: str, title: str, y_title: str,
          hover_format: str = ":,.0f") -> go.Figure:
    """One line per series with markers of different shapes, labelled at the end (not by colour alone)."""
    symbols = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon")
    fig = go.Figure()
    for i, (key, part) in enumerate(frame.groupby(series, sort=False)):
        name = safe(str(key))
        fig.add_trace(go.Scatter(x=part[x], y=part[y], name=name, mode="lines+markers",
                                 line=dict(color=QUALITATIVE[i % len(QUALITATIVE)]),
                                 marker=dict(symbol=symbols[i % len(symbols)], size=6),
                                 hovertemplate=f"{name}, %{{x}}: %{{y{hover_format}}}<extra></extra>"))
        last = part.iloc[-1]
        fig.add_annotation(x=last[x], y=last[y], text=name, showarrow=False, xanchor="left", xshift=6,
                           font=dict(size=12, color=QUALITATIVE[i % len(QUALITATIVE)]))
    fig.update_layout(yaxis_title=safe(y_title), xaxis_title=None)
    return _layout(fig, title)


def stacked_shares(frame: pd.DataFrame, category: str, stack: str, value: str, title: str,
                   stack_names: dict | None = None, x_title: str = "% of residents") -> go.Figure:
    """Horizontal 100% stacked bars with the share written on each segment."""
    fig = go.Figure()
    for i, (key, part) in enumerate(frame.groupby(stack, sort=True)):
        name = safe((stack_names or {}).get(key, str(key)))
        fig.add_trace(go.Bar(y=safe(part[category]), x=part[value], name=name, orientation="h",
                             marker_color=ramp(i, frame[stack].nunique()),
                             text=[f"{v:.0f}%" if v >= 4 else "" for v in part[value]], textposition="inside",
                             hovertemplate="%{y}, " + name + ": %{x:.1f}%<extra></extra>"))
    fig.update_layout(barmode="stack", xaxis=dict(title=safe(x_title), range=[0, 100]))
    return _layout(fig, title)


def ramp(i: int, n: int) -> str:
    """The i-th of n evenly spaced Cividis colours, darkest first (quintile 1 = most deprived = darkest)."""
    return sample_colorscale(SEQUENTIAL, [i / max(n - 1, 1)])[0]


QUINTILE_NAMES = {q: f"Quintile {q}" + (" (most deprived)" if q == 1 else " (least deprived)" if q == 5 else "")
                  for q in range(1, 6)}


def quintile_map(layer: MapLayer, frame: pd.DataFrame, title: str) -> go.Figure:
    """Areas coloured by deprivation quintile. `frame`: area_code, area_name, locality, quintile."""
    named = frame.assign(q=frame["quintile"].map(QUINTILE_NAMES))
    colours = {name: ramp(i, 5) for i, name in enumerate(QUINTILE_NAMES.values())}
    return categorical_map(layer, named, "area_code", "q", colours, title,
                           hover=named["area_name"] + " (" + named["locality"] + ")")


def bars(frame: pd.DataFrame, x: str, y: str, title: str, x_title: str, error: tuple[str, str] | None = None,
         reference: float | None = None, text_format: str = "{:,.1f}", colour: str | None = None,
         flag: str | None = None) -> go.Figure:
    """Horizontal bars with values written on them, optional interval whiskers and a reference line; `flag`
    names a column whose words are added to each label (so 'under'/'over' never rests on colour)."""
    if flag:
        frame = frame.assign(**{y: frame[y].astype(str) + " — " + frame[flag].astype(str)})
    err = None
    if error:
        err = dict(type="data", symmetric=False, array=frame[error[1]] - frame[x],
                   arrayminus=frame[x] - frame[error[0]], color="#333333", thickness=1.2)
    fig = go.Figure(go.Bar(y=safe(frame[y]), x=frame[x], orientation="h", error_x=err,
                           marker_color=frame[colour] if colour else QUALITATIVE[0],
                           text=[text_format.format(v) if pd.notna(v) else "withheld" for v in frame[x]],
                           textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{x:,.2f}<extra></extra>"))
    if reference is not None and not pd.isna(reference):
        fig.add_vline(x=reference, line=dict(color="#000000", dash="dash", width=1))
    fig.update_layout(xaxis_title=safe(x_title), yaxis=dict(autorange="reversed"))
    return _layout(fig, title, height=max(300, 60 + 28 * len(frame)))


def heatmap(frame: pd.DataFrame, x: str, y: str, value: str, title: str, label: str) -> go.Figure:
    """Ratios on a diverging scale centred on 1 (log scale, so ½ and 2 look equally far), each cell written in
    numbers; withheld cells are left blank and say so."""
    grid = frame.pivot(index=y, columns=x, values=value)
    logged = np.log2(grid.astype(float).clip(lower=1 / 8, upper=8))
    text = grid.map(lambda v: "withheld" if pd.isna(v) else f"{v:.2f}")
    fig = go.Figure(go.Heatmap(z=logged.to_numpy(), x=[safe(str(c)) for c in grid.columns],
                               y=[safe(str(r)) for r in grid.index], text=text.to_numpy(),
                               texttemplate="%{text}", colorscale=DIVERGING, zmid=0, zmin=-3, zmax=3,
                               colorbar=dict(title=safe(label), tickvals=[-3, -1, 0, 1, 3],
                                             ticktext=["⅛", "½", "1", "2", "8"]),
                               hovertemplate="%{y}, %{x}: %{text}<extra></extra>", xgap=2, ygap=2))
    fig.update_layout(xaxis=dict(side="top", tickangle=-30), yaxis=dict(autorange="reversed"))
    return _layout(fig, title, height=max(320, 140 + 34 * len(grid.index)))


def stacked_bars(frame: pd.DataFrame, x: str, y: str, stack: str, title: str, y_title: str) -> go.Figure:
    """Vertical stacked bars (e.g. activities per month by method), a pattern per series besides colour."""
    patterns = ("", "/", "\\", "x", "-", "|", "+", ".")
    fig = go.Figure()
    for i, (key, part) in enumerate(frame.groupby(stack, sort=True)):
        name = safe(str(key).replace("_", " "))
        fig.add_trace(go.Bar(x=part[x], y=part[y], name=name,
                             marker=dict(color=QUALITATIVE[i % len(QUALITATIVE)],
                                         pattern_shape=patterns[i % len(patterns)]),
                             hovertemplate="%{x|%b %Y}: %{y}<extra>" + name + "</extra>"))
    fig.update_layout(barmode="stack", yaxis_title=safe(y_title))
    return _layout(fig, title)


def bivariate_map(layer: MapLayer, frame: pd.DataFrame, code: str, title: str, hover: str) -> go.Figure:
    """Need × reach classes (`need_level`, `reach_level` in low/medium/high) in Stevens' 3×3 palette, one
    legend entry per class named in words."""
    levels = ("low", "medium", "high")
    colours = {f"{n.capitalize()} need, {r} reach": BIVARIATE[i][j]
               for i, n in enumerate(levels) for j, r in enumerate(levels)}
    return categorical_map(layer, frame, code, "category", colours, title,
                           hover=frame[hover] + " (" + frame["locality"] + ")")


def bivariate_legend_html() -> str:
    """The 3×3 legend as an HTML table with words in every cell (readable without colour, and by screen
    readers): rows need high→low, columns reach low→high."""
    levels = ("low", "medium", "high")
    rows = []
    for i in reversed(range(3)):
        cells = "".join(
            f'<td style="background:{BIVARIATE[i][j]};color:{text_colour(BIVARIATE[i][j])};padding:6px;'
            f'font-size:0.8rem;text-align:center;border:1px solid #fff">{levels[i]} need<br>{levels[j]} reach'
            + ("<br><b>priority gap</b>" if (i, j) == (2, 0) else "") + "</td>" for j in range(3))
        rows.append(f"<tr>{cells}</tr>")
    return ('<table role="table" aria-label="Map legend: need (rows, high at top) by reach (columns, low at '
            'left)" style="border-collapse:collapse;margin:0 0 0.5rem 0">'
            '<caption style="caption-side:bottom;font-size:0.8rem;text-align:left">Rows: need, high at top. '
            'Columns: reach, low at left.</caption>' + "".join(rows) + "</table>")


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with the background (WCAG relative luminance)."""
    channels = [int(background[k:k + 2], 16) / 255 for k in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"


def paired_bars(frame: pd.DataFrame, y: str, series: dict[str, str], title: str, x_title: str,
                errors: dict[str, tuple[str, str]] | None = None, text_format: str = "{:,.1f}",
                references: tuple[float, ...] = ()) -> go.Figure:
    """Two or more values per row as grouped horizontal bars (e.g. before and after weighting): each series with
    its own colour and pattern, named in the legend, its value written on the bar ('withheld' for NaN), optional
    interval whiskers ({column: (low, high)}) and dashed reference lines."""
    patterns = ("", "/", "x", "\\")
    fig = go.Figure()
    for i, (column, name) in enumerate((column, safe(name)) for column, name in series.items()):
        err = None
        if errors and column in errors:
            low, high = errors[column]
            err = dict(type="data", symmetric=False, array=frame[high] - frame[column],
                       arrayminus=frame[column] - frame[low], color="#333333", thickness=1.2)
        fig.add_trace(go.Bar(y=safe(frame[y]), x=frame[column], name=name, orientation="h", error_x=err,
                             marker=dict(color=QUALITATIVE[i % len(QUALITATIVE)],
                                         pattern_shape=patterns[i % len(patterns)]),
                             text=[text_format.format(v) if pd.notna(v) else "withheld" for v in frame[column]],
                             # With whiskers the value goes at the bar's base, where no whisker can cover it.
                             textposition="inside" if err else "outside", insidetextanchor="start",
                             textfont=dict(color=text_colour(QUALITATIVE[i % len(QUALITATIVE)])) if err else None,
                             cliponaxis=False, hovertemplate="%{y}, " + name + ": %{x:,.2f}<extra></extra>"))
    for reference in references:
        fig.add_vline(x=reference, line=dict(color="#000000", dash="dash", width=1))
    fig.update_layout(barmode="group", xaxis_title=safe(x_title), yaxis=dict(autorange="reversed"))
    return _layout(fig, title, height=max(320, 90 + 44 * len(frame)))


def convergence(history: pd.DataFrame, title: str) -> go.Figure:
    """Raking's largest remaining gap to a margin after each iteration (`iteration`, `max_margin_error`), on a
    log scale so the approach to the tolerance shows."""
    fig = go.Figure(go.Scatter(x=history["iteration"], y=history["max_margin_error"], mode="lines+markers",
                               line=dict(color=QUALITATIVE[0]), marker=dict(symbol="circle", size=6),
                               hovertemplate="Iteration %{x}: %{y:.1e}<extra></extra>"))
    fig.update_layout(xaxis_title="Iteration", yaxis=dict(title="Largest gap to a margin (share)", type="log",
                                                          exponentformat="power"))
    return _layout(fig, title, height=340)
