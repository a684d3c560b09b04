"""A printable one-page briefing for an IJB paper: headline figures, the need × reach map (inline SVG, drawn
here so it needs no browser or service) and the top gaps. The user prints it to PDF from the browser."""
from __future__ import annotations

import html
import math
from datetime import date

from analytics import describe, figures, geo, home, reach
from analytics.db import Store
from analytics.metrics import metric

LEVELS = ("low", "medium", "high")


def _svg_map(features: list[dict], colours: dict[str, str], width: int = 380, height: int = 290) -> str:
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


def _scope(con: Store, year: int, made: date) -> str:
    """What the figures cover (issue 20: a printed page must say): the pack, the engagement period, the filters
    and the day the briefing was made."""
    meta, options = con.meta(), reach.ledger_options(con)
    first, last = (date.fromisoformat(options[k][0]) for k in ("first_date", "last_date"))
    return (f"Area pack: {html.escape(meta['name'])} (base year {meta['base_year']}). Engagement from "
            f"{first:%-d %B %Y} to {last:%-d %B %Y}. Filters: the whole partnership, every method and partner; need "
            f"projected for {year} (principal projection). Made on {made:%-d %B %Y}.")


def briefing_html(con: Store, year: int, made: date | None = None) -> str:
    """A self-contained HTML page (no external files) that prints on one A4 page (checked in a browser test)."""
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
<style>@page {{size: A4; margin: 12mm}} body {{font-family: sans-serif; font-size: 9.5pt; color: #111; margin: 0}}
* {{print-color-adjust: exact; -webkit-print-color-adjust: exact}} /* browsers drop map and legend colours */
h1 {{font-size: 15pt; margin: 0}} h2 {{font-size: 11.5pt; margin: 8px 0 4px}} p {{margin: 4px 0}}
.figs td {{padding: 1px 10px 1px 0}} .row {{display: flex; gap: 12px}} ol {{margin: 4px 0; padding-left: 18px}}
li {{margin-bottom: 3px}} .scope {{font-size: 8.5pt; color: #333}} svg {{flex-shrink: 0}}</style>
</head><body><h1>Reach &amp; Need: {html.escape(meta['name'])}</h1>{synthetic}
<p class="scope">{_scope(con, year, made or date.today())}</p>
<table class="figs"><tr><td>Residents ({meta['base_year']})</td><td><b>{facts['residents']:,.0f}</b></td></tr>
<tr><td>Residents aged 75+, {meta['base_year']} to {year}</td><td><b>{facts['aged_75_base']:,.0f} to
{facts['aged_75_projected']:,.0f} ({facts['growth_75']:+.0f}%)</b></td></tr>
<tr><td>Respondents to engagement</td><td><b>{respondents}</b> ({rate} per 1,000 residents aged 15+)</td></tr>
<tr><td>Proportional similarity (age × sex)</td><td><b>{metric('proportional_similarity').format(facts['proportional_similarity'])}</b> (1 = mirrors
the population)</td></tr><tr><td>Groups under-reached</td><td><b>{len(under)}</b></td></tr></table>
<h2>Need ({year}) and engagement reach by neighbourhood</h2><div class="row">{svg}
<div>{figures.bivariate_legend_html()}<p>{html.escape(describe.bivariate(frame))}</p></div></div>
<h2>The five largest gaps</h2><ol>{gaps}</ol>
<p style="font-size:8.5pt">Counts under {meta['suppress_below']} and figures that would reveal them are withheld.
Need: published age–sex rates × projected residents × deprivation gradient. Made with Reach &amp; Need.</p>
</body></html>"""
