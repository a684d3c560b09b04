"""A printable one-page briefing for an IJB paper: headline figures, the need × reach map (inline SVG, drawn
here so it needs no browser or service) and the top gaps. The user prints it to PDF from the browser."""
from __future__ import annotations

import html
import math

from analytics import describe, figures, geo, home
from analytics.db import Store
from analytics.metrics import metric

LEVELS = ("low", "medium", "high")


def _svg_map(features: list[dict], colours: dict[str, str], width: int = 520, height: int = 400) -> str:
    xs, ys = [], []
    for f in features:
        geo.collect_coordinates(f["geometry"]["coordinates"], xs, ys)
    lat0 = math.radians((max(ys) + min(ys)) / 2)
    sx = (max(xs) - min(xs)) * math.cos(lat0)
    scale = min(width / sx, height / (max(ys) - min(ys)))

    def point(lon: float, lat: float) -> str:
        return f"{(lon - min(xs)) * math.cos(lat0) * scale:.1f},{(max(ys) - lat) * scale:.1f}"

    paths = []
    for f in features:
        polygons = f["geometry"]["coordinates"]
        if f["geometry"]["type"] == "Polygon":
            polygons = [polygons]
        d = " ".join("M" + " L".join(point(*p) for p in ring) + "Z" for poly in polygons for ring in poly)
        paths.append(f'<path d="{d}" fill="{colours.get(f["id"], "#bdbdbd")}" stroke="#fff" stroke-width="0.4"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="Map of need and reach by neighbourhood">{"".join(paths)}</svg>')


def briefing_html(con: Store, year: int) -> str:
    """A self-contained HTML page (no external files) sized for one A4 page."""
    meta = con.meta()
    facts = home.headline(con, year)
    frame = home.need_reach(con, year)
    colours = {row.neighbourhood_code: figures.BIVARIATE[LEVELS.index(row.need_level)][LEVELS.index(row.reach_level)]
               for row in frame.itertuples()}
    svg = _svg_map(geo.feature_collection(con, "neighbourhood")["features"], colours)
    under = home.under_reached(con)
    gaps = "".join(f"<li>{html.escape(describe.gap(row))}</li>" for _, row in under.head(5).iterrows())
    synthetic = ("<p><b>Demonstration data: every figure is fictional.</b></p>"
                 if meta.get("synthetic", "").lower() == "true" else "")
    respondents, rate = (metric(k).format(facts[v]) for k, v in (("respondents", "respondents"),
                                                                 ("respondents_per_1000", "per_1000")))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Reach &amp; Need briefing: {html.escape(meta['name'])}</title>
<style>@page {{size: A4; margin: 14mm}} body {{font-family: sans-serif; font-size: 10.5pt; color: #111}}
* {{print-color-adjust: exact; -webkit-print-color-adjust: exact}} /* browsers drop map and legend colours */
h1 {{font-size: 16pt; margin: 0}} .figs td {{padding: 2px 10px 2px 0}} .row {{display: flex; gap: 12px}}</style>
</head><body><h1>Reach &amp; Need: {html.escape(meta['name'])}</h1>{synthetic}
<table class="figs"><tr><td>Residents ({meta['base_year']})</td><td><b>{facts['residents']:,.0f}</b></td></tr>
<tr><td>Residents aged 75+, {meta['base_year']} to {year}</td><td><b>{facts['aged_75_base']:,.0f} to
{facts['aged_75_projected']:,.0f} ({facts['growth_75']:+.0f}%)</b></td></tr>
<tr><td>Respondents to engagement</td><td><b>{respondents}</b> ({rate} per 1,000 residents)</td></tr>
<tr><td>Proportional similarity (age × sex)</td><td><b>{metric('proportional_similarity').format(facts['proportional_similarity'])}</b> (1 = mirrors
the population)</td></tr><tr><td>Groups under-reached</td><td><b>{len(under)}</b></td></tr></table>
<h2>Need ({year}) and engagement reach by neighbourhood</h2><div class="row">{svg}
<div>{figures.bivariate_legend_html()}<p>{html.escape(describe.bivariate(frame))}</p></div></div>
<h2>The five largest gaps</h2><ol>{gaps}</ol>
<p style="font-size:8.5pt">Counts under {meta['suppress_below']} and figures that would reveal them are withheld.
Need: published age–sex rates × projected residents × deprivation gradient. Made with Reach &amp; Need.</p>
</body></html>"""
