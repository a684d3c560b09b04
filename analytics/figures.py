"""Plotly figure builders. One palette (colour-blind safe), no tile base map (works offline), text on every
mark that carries meaning so colour is never the only cue."""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from analytics.geo import MapLayer
from analytics.metrics import Metric, display

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
    """Common layout. The title stays in the figure (a downloaded PNG carries it) but the page hides it and writes
    it above the chart as text that wraps (ui.chart): a plotly title never wraps, ran off a phone's screen, sat
    under the chart's toolbar and collided with a heatmap's column labels (issue 20). The legend sits above the
    plot, where plotly makes room for it, instead of below where it ran over the x-axis title on a phone."""
    fig.update_layout(title=dict(text=safe(title), x=0, y=1, yref="container", yanchor="top", pad=dict(t=8),
                                 font=dict(size=16)),
                      height=height, font=FONT, margin=dict(l=10, r=10, t=TOP_MARGIN, b=10),
                      paper_bgcolor="white", plot_bgcolor="white",
                      legend=dict(orientation="h", x=0, xanchor="left", y=1, yanchor="bottom", yref="paper"))
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def for_hall(fig: go.Figure, on: bool = True) -> go.Figure:
    """The figure with type sized for a hall's screen (presentation mode): text about 1.5 times as large."""
    if not on:
        return fig
    fig.update_layout(font=dict(size=22), title_font_size=26, legend_font_size=20)
    fig.update_annotations(font_size=22)
    fig.update_layout(height=int(fig.layout.height * 1.3) if fig.layout.height else None)
    if fig.layout.margin.r and fig.layout.margin.r > 10:  # a value column: wider for the larger type
        fig.update_layout(margin_r=int(fig.layout.margin.r * 1.7))
    return fig


TOP_MARGIN = 36  # room for the chart's toolbar (shown on hover) above the plot, and the title in a PNG


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
    return _map_layout(fig, layer, title)


def categorical_map(layer: MapLayer, frame: pd.DataFrame, code: str, category: str, colours: dict[str, str],
                    title: str, hover: pd.Series | None = None) -> go.Figure:
    """Discrete classes drawn with one trace each (a shared legend that names every class in words). `hover`:
    text per row, already made safe (it may carry <br>)."""
    fig = go.Figure()
    for label, colour in colours.items():
        part = frame[frame[category] == label]
        if part.empty:
            continue
        fig.add_trace(go.Choroplethmap(
            geojson=layer.source, locations=part[code], z=[1] * len(part), featureidkey="id", name=safe(label),
            showlegend=True, showscale=False, colorscale=[[0, colour], [1, colour]],
            marker=dict(line=dict(width=0.3, color="white")),
            text=hover.loc[part.index] if hover is not None else safe(part[code]),  # hover: made safe
            hovertemplate="%{text}<extra>" + safe(label) + "</extra>"))
    return _map_layout(fig, layer, title)


OUTLINE = "#1a1a1a"


def _map_layout(fig: go.Figure, layer: MapLayer, title: str) -> go.Figure:
    """No tile base map (nothing fetched from outside); the localities' outlines drawn over the areas as a line
    layer (no text layer: map text needs glyphs from a CDN), and their names listed in `meta` for the page to
    write over the map (styles.MAP_LABELS) — so a viewer can tell where each locality is (issue 20)."""
    outline = [dict(sourcetype="geojson", source=layer.outlines, type="line", color=OUTLINE, line=dict(width=1.8),
                    below="")] if layer.outlines else []
    fig.update_layout(map=dict(style="white-bg", layers=outline, **layer.view),
                      meta=dict(labels=[dict(name=safe(n), lon=x, lat=y) for n, x, y in layer.labels]))
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


def trend(frame: pd.DataFrame, x: str, y: str, series: str, title: str, y_title: str,
          error: tuple[str, str], flag: str, reference: float = 1.0) -> go.Figure:
    """A ratio per period for each series with its interval, the series side by side within a period (dodged, so
    whiskers never overlap), joined by lines; a flagged point (under or over) is filled, an unflagged one hollow,
    so the flag never rests on colour. The axis is logarithmic, as the heatmap's scale is: half and double lie
    equally far from 1, and a quarter's wide interval does not flatten every other point."""
    symbols = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon")
    periods = list(dict.fromkeys(frame[x]))
    groups = list(dict.fromkeys(frame[series]))
    step = 0.6 / max(len(groups), 1)
    fig = go.Figure()
    for i, name in enumerate(groups):
        part = frame[frame[series] == name]
        where = part[x].map(periods.index).to_numpy(float) - 0.3 + step * (i + 0.5)
        colour = QUALITATIVE[i % len(QUALITATIVE)]
        flagged = part[flag].isin(["under", "over"]).to_numpy()
        symbol = [symbols[i % len(symbols)] + ("" if f else "-open") for f in flagged]
        fig.add_trace(go.Scatter(
            x=where, y=part[y], name=safe(str(name)), mode="lines+markers", line=dict(color=colour, width=1.5),
            marker=dict(symbol=symbol, size=10, color=colour, line=dict(width=2, color=colour)),
            error_y=dict(type="data", symmetric=False, array=part[error[1]] - part[y],
                         arrayminus=part[y] - part[error[0]], color=colour, thickness=1.2, width=3),
            customdata=np.stack([safe(part[x].astype(str)), safe(part[flag].astype(str))], axis=-1),
            hovertemplate=safe(str(name)) + ", %{customdata[0]}: %{y:.2f} (%{customdata[1]})<extra></extra>"))
    if reference is not None:
        fig.add_hline(y=reference, line=dict(color="#000000", dash="dash", width=1))
    ticks = [0.125, 0.25, 0.5, 1, 2, 4, 8]
    fig.update_layout(yaxis=dict(title=safe(y_title), type="log", range=[np.log10(0.1), np.log10(10)],
                                 tickvals=ticks, ticktext=["⅛", "¼", "½", "1", "2", "4", "8"]),
                      xaxis=dict(tickvals=list(range(len(periods))), tickangle=0, range=[-0.5, len(periods) - 0.5],
                                 # '2026 Q3 (Jul–Aug)' on two lines: five quarters fit a phone without tilting
                                 ticktext=["<br>".join(safe(part) for part in str(p).replace(" (", "\n(").split("\n"))
                                           for p in periods]))
    return _layout(fig, title, height=460)


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
    # Every 20% labelled up to 100 (the axis used to stop labelling at 80, issue 20).
    fig.update_layout(barmode="stack", xaxis=dict(title=safe(x_title), range=[0, 100.5],
                                                  tickvals=list(range(0, 101, 20)), ticksuffix="%"))
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
                           hover=safe(named["area_name"] + " (" + named["locality"] + ")"))


def bars(frame: pd.DataFrame, x: str, y: str, title: str, x_title: str, error: tuple[str, str] | None = None,
         reference: float | None = None, text_format: str = "{:,.1f}", colour: str | None = None,
         flag: str | None = None, share: bool = False) -> go.Figure:
    """Horizontal bars with their values written in a column of their own to the right of the plot, optional
    interval whiskers and a reference line; `flag` names a column whose words are added to each label (so
    'under'/'over' never rests on colour); `share`: values are fractions, the axis reads in %."""
    if flag:
        frame = frame.assign(**{y: frame[y].astype(str) + " — " + frame[flag].astype(str)})
    series = [Series(x, "", error, frame[colour] if colour else QUALITATIVE[0])]
    fig = _hbars(frame, y, series, title, x_title, text_format, () if reference is None else (reference,),
                 row_height=28)
    return fig.update_xaxes(tickformat=".0%") if share else fig


def paired_bars(frame: pd.DataFrame, y: str, series: dict[str, str], title: str, x_title: str,
                errors: dict[str, tuple[str, str]] | None = None, text_format: str = "{:,.1f}",
                references: tuple[float, ...] = ()) -> go.Figure:
    """Two or more values per row as grouped horizontal bars (e.g. before and after weighting): each series with
    its own colour and pattern, named in the legend, its value written in the value column beside its bar
    ('withheld' for NaN), optional interval whiskers ({column: (low, high)}) and dashed reference lines."""
    patterns = ("", "/", "x", "\\")
    parts = [Series(column, name, (errors or {}).get(column), QUALITATIVE[i % len(QUALITATIVE)],
                    patterns[i % len(patterns)]) for i, (column, name) in enumerate(series.items())]
    return _hbars(frame, y, parts, title, x_title, text_format, references, row_height=22 + 22 * len(parts))


@dataclass(frozen=True)
class Series:
    """One set of bars: its column, legend name ('' = no legend), optional (low, high) interval columns,
    colour (one, or a Series of one per row) and pattern."""
    column: str
    name: str
    error: tuple[str, str] | None
    colour: object
    pattern: str = ""


VALUE_FONT = dict(size=13, color="#111111")


def value_label(text_format: str, value: float) -> str:
    """A bar's value as written: 'withheld' for NaN, and never '-0.00' (a tiny negative rounded away)."""
    if pd.isna(value):
        return "withheld"
    text = text_format.format(value)
    return text_format.format(0.0) if not text.strip("+-0.,%") else text
CHAR_PX = 7.5  # average width of a 13 px Source Sans character: sizes the value column


def _hbars(frame: pd.DataFrame, y: str, series: list[Series], title: str, x_title: str, text_format: str,
           references: tuple[float, ...], row_height: int) -> go.Figure:
    """Rows at 0, 1, 2 … (top first), each series' bar at its own offset within the row, and every value written
    in the right-hand margin level with its bar: whiskers and reference lines stay inside the plot, so no value
    can be overprinted by them (issue 20), whatever the screen width."""
    n, k = len(frame), len(series)
    width = 0.8 / k
    names = safe(frame[y].map(display)).tolist()
    fig = go.Figure()
    texts: list[str] = []
    for j, s in enumerate(series):
        where = np.arange(n) - 0.4 + width * (j + 0.5)
        values = frame[s.column]
        err = None
        if s.error:
            low, high = s.error
            err = dict(type="data", symmetric=False, array=frame[high] - values, arrayminus=values - frame[low],
                       color="#333333", thickness=1.2, width=3)
        label = [value_label(text_format, v) for v in values]
        texts += label
        fig.add_trace(go.Bar(y=where, x=values, width=width, orientation="h", error_x=err, name=safe(s.name),
                             showlegend=bool(s.name), customdata=names,
                             marker=dict(color=s.colour, pattern_shape=s.pattern),
                             hovertemplate="%{customdata}" + (", " + safe(s.name) if s.name else "")
                             + ": " + "%{x:,.2f}<extra></extra>"))
        for pos, text in zip(where, label):
            fig.add_annotation(x=1, xref="paper", xanchor="left", xshift=8, y=pos, yref="y", text=text,
                               showarrow=False, font=VALUE_FONT)
    for reference in references:
        if reference is not None and not pd.isna(reference):
            fig.add_vline(x=reference, line=dict(color="#000000", dash="dash", width=1))
    fig.update_layout(barmode="overlay", xaxis_title=safe(x_title),
                      yaxis=dict(autorange="reversed", tickvals=list(range(n)), ticktext=names,
                                 range=[n - 0.5, -0.5], zeroline=False))
    fig = _layout(fig, title, height=max(300, 90 + row_height * n))
    # The value column: as wide as the longest value, in pixels, so it fits a phone as well as a hall screen.
    fig.update_layout(margin=dict(r=16 + int(CHAR_PX * max((len(t) for t in texts), default=4))))
    return fig


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
        name = safe(display(key))
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
    return categorical_map(layer, frame, code, "category", colours, title, hover=_need_reach_hover(frame, hover))


def _need_reach_hover(frame: pd.DataFrame, name: str) -> pd.Series:
    """The figures behind an area's class, as the page promises: need index, response rate, residents."""
    # astype(str): on an empty frame (a year without projections) map gives floats, which cannot be joined
    rate = frame["per_1000"].map(lambda v: "withheld (small number)" if pd.isna(v) else f"{v:,.1f}").astype(str)
    return (safe(frame[name] + " (" + frame["locality"] + ")") + "<br>Need index: "
            + frame["need_index"].map("{:,.0f}".format).astype(str)
            + " (partnership = 100)<br>Respondents per 1,000 residents: " + rate
            + "<br>Residents: " + frame["residents"].map("{:,.0f}".format).astype(str))


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


def convergence(history: pd.DataFrame, title: str) -> go.Figure:
    """Raking's largest remaining gap to a margin after each iteration (`iteration`, `max_margin_error`), on a
    log scale so the approach to the tolerance shows."""
    fig = go.Figure(go.Scatter(x=history["iteration"], y=history["max_margin_error"], mode="lines+markers",
                               line=dict(color=QUALITATIVE[0]), marker=dict(symbol="circle", size=6),
                               hovertemplate="Iteration %{x}: %{y:.1e}<extra></extra>"))
    fig.update_layout(xaxis_title="Iteration", yaxis=dict(title="Largest gap to a margin (share)", type="log",
                                                          exponentformat="power"))
    return _layout(fig, title, height=340)
