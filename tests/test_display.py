"""What a person reads (issue 20): tables and downloads named and formatted from the registry, sentences without
codes or slips, interval charts whose values sit in a column of their own, a briefing that says what it covers."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from analytics import describe, export, figures, metrics

FRAME = pd.DataFrame({
    "method": ["focus_group", "online_survey"], "respondents": [11041.0, np.nan],
    "ratio": [0.738123456789, -0.0001], "window_start": pd.to_datetime(["2025-09-27", "2025-10-01"]),
    "best_methods": ["focus_group (20.5% of its respondents)", None], "max_margin_error": [6.3e-9, 0.0123],
    "population_share": [0.16204463, 0.0], "withheld": [False, True]})


def test_tables_on_screen_read_as_words_and_formatted_numbers():
    shown, spec = export.for_screen(FRAME)
    assert shown["method"].tolist() == ["Focus group", "Online survey"]
    assert shown["respondents"].tolist() == ["11,041", "withheld"]  # a gap is withheld, not "None"
    assert shown["ratio"].tolist() == [0.74, 0.0] and spec["ratio"] == ("number", "Representation ratio", "%.2f")
    assert shown["window_start"].tolist() == ["27 Sep 2025", "1 Oct 2025"]  # no "00:00:00"
    assert shown["best_methods"].tolist() == ["focus group (20.5% of its respondents)", "—"]
    assert shown["max_margin_error"].tolist() == ["below 0.0001", "0.0123"]  # not 6.3e-09
    assert shown["population_share"].tolist() == [16.2, 0.0]
    assert [label for _, label, _ in spec.values()] == [
        "Method", "Respondents", "Representation ratio", "Busiest window starts",
        "Methods that reached them best elsewhere", "Largest gap to a margin (share)", "Share of residents (%)",
        "Withheld (small numbers)"]


def test_a_download_has_readable_headers_then_the_codes_and_rounded_values():
    text = export.readable_csv(FRAME).decode("utf-8-sig")
    rows = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False).values.tolist()
    assert rows[0][:3] == ["Method", "Respondents", "Representation ratio"]
    assert rows[1] == list(FRAME.columns)  # the codes, for a script, in the second header row
    assert rows[2][:4] == ["Focus group", "11041", "0.74", "2025-09-27"]
    assert rows[3][:4] == ["Online survey", "withheld", "0.00", "2025-10-01"]
    assert "None" not in text and "e-0" not in text and "0.738123" not in text


def test_every_registered_label_is_words_and_definitions_carry_no_formula():
    assert all("_" not in c.label for c in metrics.COLUMNS.values())
    assert not [m.key for m in metrics.METRICS.values() if "Σ" in m.definition]
    assert metrics.display("focus_group") == "Focus group" and metrics.display("Eastfield") == "Eastfield"
    assert {"focus_group", "online_survey", "per_1000_low", "busiest_window"} <= metrics.registry_codes()


def test_sentences_have_no_slips():
    contacts = pd.DataFrame({"flag": ["x"], "group": ["Eastfield"], "busiest_window": [1],
                             "window_start": pd.to_datetime(["2025-09-04"])})
    assert "(1 activity in 90 days from 4 Sep 2025)" in describe.fatigue(contacts, 90)
    need = pd.DataFrame({"label": ["Falls"], "base": [1.0], "projected": [2.0], "growth": [100.0]})
    assert describe.need_table(need, "Eastfield", 2030).startswith("In Eastfield,")
    one = pd.DataFrame({"locality": ["Eastfield"], "per_1000": [0.1], "flag": ["within"]})
    assert describe.coverage(one) == "The response rate is 0.1 per 1,000 residents in Eastfield."
    areas = pd.DataFrame({"need_index": [80.0, 120.0], "locality": ["Westhaven"] * 2})
    assert "highest-need areas" not in describe.need_map(areas, "Falls", 2030)
    months = pd.DataFrame({"month": pd.to_datetime(["2025-09-01"]), "activities": [1]})
    assert describe.timeline(months).endswith("with 1 activity starting.")


def test_interval_values_sit_in_a_column_of_their_own():
    frame = pd.DataFrame({"group": ["A", "B"], "ratio": [0.5, -0.0004], "low": [0.3, -0.2], "high": [0.9, 0.3]})
    fig = figures.bars(frame, "ratio", "group", "Title", "ratio", error=("low", "high"), reference=1,
                       text_format="{:+.2f}")
    values = [(a.text, a.xref, a.x, a.xanchor) for a in fig.layout.annotations]
    assert values == [("+0.50", "paper", 1, "left"), ("+0.00", "paper", 1, "left")]  # right of the plot, no -0.00
    assert fig.data[0].text is None and fig.layout.margin.r >= 16 + 5 * 7  # no text on the bars
    assert list(fig.layout.yaxis.ticktext) == ["A", "B"]


def test_paired_bars_write_no_tiny_text_inside_the_bars():
    frame = pd.DataFrame({"label": ["P1"], "a": [30.0], "a_lo": [29.0], "a_hi": [31.0], "b": [20.0]})
    fig = figures.paired_bars(frame, "label", {"a": "As heard", "b": "Weighted"}, "T", "%",
                              errors={"a": ("a_lo", "a_hi")})
    assert all(t.text is None for t in fig.data) and len(fig.layout.annotations) == 2
    assert fig.layout.annotations[0].font.size >= 13


def test_the_deprivation_axis_is_labelled_to_100():
    frame = pd.DataFrame({"locality": ["A"] * 2, "quintile": [1, 2], "share": [40.0, 60.0]})
    fig = figures.stacked_shares(frame, "locality", "quintile", "share", "T")
    assert list(fig.layout.xaxis.tickvals)[-1] == 100 and fig.layout.xaxis.range[1] >= 100


@pytest.mark.parametrize("url, local", [("http://localhost:8501", True), ("http://127.0.0.1:8711/", True),
                                        ("https://reach.example.org", False), ("http://10.0.0.5:8501", False)])
def test_a_local_address_is_recognised(url, local):
    from analytics import ui
    assert ui.is_local_address(url) is local


def test_the_briefing_says_what_it_covers(demo):
    from datetime import date

    from analytics import briefing
    page = briefing.briefing_html(demo, 2034, made=date(2026, 12, 4))
    assert "Area pack: Invercarron HSCP (demonstration)" in page
    assert "Engagement from " in page and "Filters: the whole partnership" in page
    assert "projected for 2034" in page and "Made on 4 December 2026" in page
