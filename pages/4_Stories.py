"""Stories: people's own accounts, shown only as their consent allows; one at a time, large, for the Board."""
import streamlit as st

from analytics import ui
from analytics.insight import library
from analytics.insight.library import shown_date

ui.page_setup("Stories", "💬", show_title=False)
editor = ui.signed_in_editor()  # board-only stories are for signed-in editors


def story_card(story: dict, large: bool = False) -> None:
    with st.container(border=True):
        (st.header if large else st.subheader)(ui.plain(story["title"]))
        st.markdown(ui.plain(story["summary"]))
        board = " · for the Board only" if story["consent"] == "board_only" else ""
        st.caption(f"Told by {ui.plain(story['teller'])}, {shown_date(story['told_on'])}{board}")


told = ui.compute(library.stories, board=editor is not None)
if ui.presentation_mode():  # the story for the Board: one story, large, to open a meeting
    if told.empty:
        st.info("No story has consent to be shown.")
        st.stop()
    step = ui.slide_step(len(told))
    story_card(told.iloc[step].to_dict(), large=True)
    back, ahead = st.columns(2)
    if back.button("Back", disabled=step == 0):
        ui.slide_step(len(told), -1)
        st.rerun()
    if ahead.button("Next", disabled=step == len(told) - 1):
        ui.slide_step(len(told), 1)
        st.rerun()
    st.stop()

st.title("Stories")
st.markdown("People's own accounts of care and support, told in their words and shown only as they agreed: "
            "withdrawn stories are never shown.")
if editor is None:
    st.caption("Some stories are shared with the Board only: editors see them once signed in.")
for story in told.to_dict("records"):
    story_card(story)
st.caption("Presentation mode (sidebar) shows one story at a time, large, to open a Board meeting.")
