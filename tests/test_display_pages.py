"""Every page on the demonstration pack (AppTest): each table column a viewer sees is named by the registry
(analytics.metrics.COLUMNS), and no sentence, heading or caption shows one of the registry's codes (issue 20)."""
from __future__ import annotations

import re

import pytest

from analytics import metrics
from tests.apptest import run, shown_tables
from tests.test_pages import PAGES

CODE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, metrics.registry_codes()), key=len, reverse=True))
                  + r")\b")


def page_text(at) -> list[str]:
    """The text a viewer reads, without what is deliberately shown as code (`…`, a file's column names)."""
    texts = [e.value for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning")
             for e in getattr(at, kind)]
    texts += [m.label for m in at.metric] + [m.value for m in at.metric]
    return [re.sub(r"`[^`]*`", "", str(t)) for t in texts]


@pytest.mark.parametrize("page", PAGES)
def test_tables_and_text_show_names_not_codes(demo_env, page):
    at = run(page)
    assert not at.exception, [e.message for e in at.exception]
    unnamed = sorted({str(c) for t in shown_tables(at) for c in t.columns if str(c) not in metrics.COLUMNS})
    assert not unnamed, f"{page}: columns without a display name in metrics.COLUMNS: {unnamed}"
    codes = sorted({m for t in page_text(at) for m in CODE.findall(t)})
    assert not codes, f"{page}: codes in the text a viewer reads: {codes}"
