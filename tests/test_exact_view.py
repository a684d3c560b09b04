"""Issue 18: signed-in editors may switch on exact counts; they are marked, and no viewer ever gets them."""
from __future__ import annotations

import bcrypt
from streamlit.testing.v1 import AppTest

from analytics import ui
from tests.apptest import ROOT, small_counts

PASSWORD = "correct horse battery staple"


def _page(editor: bool = False, exact: bool = False) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "2_Engagement_reach.py"), default_timeout=120)
    at.secrets["editors"] = {"accounts": {"lead": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()}}
    if editor:
        at.session_state["signed_in"] = "lead"
    at.run()
    if exact:
        next(t for t in at.toggle if t.key == "exact_view").set_value(True).run()
    return at


def _seen(at: AppTest) -> tuple:
    """What a viewer is shown besides tables: figures (as sent), captions and metrics."""
    return ([c.proto.spec for c in at.get("plotly_chart")], [c.value for c in at.caption],
            [m.value for m in at.metric])


def _forget() -> None:
    for cache in (ui._RESULTS, ui._FIGURES, ui._SENTENCES, ui._TABLES):
        cache.clear()


def test_an_editor_sees_exact_counts_marked_and_a_viewer_still_sees_published_ones(tiny_env):
    _forget()
    viewer = _page()
    assert not viewer.exception and not [t for t in viewer.toggle if t.key == "exact_view"]
    published = _seen(viewer)
    _forget()
    assert _seen(_page(editor=True)) == published  # exact counts are off until chosen
    _forget()  # the editor's exact page first, into empty shared caches
    editor = _page(editor=True, exact=True)
    assert not editor.exception, [e.message for e in editor.exception]
    assert any("unprotected: do not publish" in e.value for e in editor.error)
    # Exact: the tiny pack's tables show their true small counts (a viewer sees none: 0 … 4 are published as
    # withheld or 5), e.g. the two respondents living in the South; figures and sentences differ too.
    assert ("respondents", [2]) in small_counts(editor) and not small_counts(viewer)
    exact = _seen(editor)
    assert exact[0] != published[0] and exact[1] != published[1]
    # A viewer after the editor (the same process, the editor's figures and sentences in the shared caches)
    # still gets exactly the published page.
    again = _page()
    assert _seen(again) == published and not small_counts(again)
    assert not any("unprotected" in e.value for e in again.error)


def test_the_switch_alone_without_an_editor_signed_in_gives_nothing(tiny_env):
    published = _seen(_page())
    at = AppTest.from_file(str(ROOT / "pages" / "2_Engagement_reach.py"), default_timeout=120)
    at.session_state["exact_view"] = True  # as if left over, or forged: no editor is signed in
    at.run()
    assert not at.exception and _seen(at) == published
    assert not any("unprotected" in e.value for e in at.error)
