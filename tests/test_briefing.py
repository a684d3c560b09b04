"""The one-page briefing for an IJB paper: the home page's figures, the map and the five gaps, self-contained."""
from __future__ import annotations

import re

from analytics import briefing, home


def test_briefing_holds_the_home_figures_map_and_gaps(demo):
    page = briefing.briefing_html(demo, 2034)
    facts = home.headline(demo, 2034)
    assert f"{facts['residents']:,.0f}" in page and "649,177" in page
    assert f"{facts['aged_75_base']:,.0f} to\n{facts['aged_75_projected']:,.0f}" in page
    assert f"{facts['respondents']:,.0f}" in page and "10,935" in page  # respondents of the one base, published
    assert page.count("<li>") == 5 and [g for g in home.under_reached(demo).head(5)["group"] if g not in page] == []
    assert page.count("<path") == 110  # one shape per neighbourhood
    assert "Demonstration data" in page
    assert "print-color-adjust: exact" in page  # the map keeps its colours on paper
    # Self-contained: no address to fetch anything from (it is opened offline, or printed).
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page) and "@import" not in page
