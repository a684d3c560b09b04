"""Insight library: what people told us, kept in one place and answered — read it before commissioning more."""
import streamlit as st

from analytics import config, ui
from analytics.insight import codebook, library
from analytics.metrics import metric

info = ui.page_setup("Insight library", "📚", show_title=False)
editor = ui.signed_in_editor()  # board-only stories and proposed themes are for signed-in editors


def when(value: object) -> str:
    return "not dated" if value is None or str(value) in ("", "NaT", "None", "nan") else str(value)[:10]


def story_card(story: dict, large: bool = False) -> None:
    with st.container(border=True):
        (st.header if large else st.subheader)(ui.plain(story["title"]))
        st.markdown(ui.plain(story["summary"]))
        board = " · for the Board only" if story["consent"] == "board_only" else ""
        st.caption(f"Told by {ui.plain(story['teller'])}, {when(story['told_on'])}{board}")


if ui.presentation_mode():  # the story for the Board: one story, large, to open a meeting
    told = ui.compute(library.stories, board=editor is not None)
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

st.title("Insight library")
st.markdown("What people have already told the partnership, kept in one place: findings from engagement, the themes "
            "of their comments, what was done about them, and people's own stories. **Before you commission new "
            "engagement, read this.** Figures for groups of fewer than "
            f"{info['suppress_below']} people are withheld.")
choices = ui.compute(library.options)
tabs = st.tabs(["Search", "Themes", "You said, we did", "Stories"] + (["Proposed themes"] if editor else []))

with tabs[0]:
    query = st.text_input("Search insights, themes and stories", placeholder="e.g. interpreter, respite, bus",
                          max_chars=200)
    c = st.columns(4)
    locality = c[0].selectbox("Locality", ["All"] + choices["localities"])
    community = c[1].selectbox("Community", ["All"] + choices["communities"])
    priority = c[2].selectbox("Priority", ["All"] + choices["priorities"])
    theme = c[3].selectbox("Theme", ["All"] + choices["themes"])
    found = ui.compute(library.search, query=query, board=editor is not None, locality=locality, community=community,
                       priority=priority, theme=theme)
    st.caption(f"{len(found)} found" + (", most relevant first." if query.strip() else ", newest first."))
    for item in found.head(25).to_dict("records"):
        with st.container(border=True):
            st.markdown(f"**{ui.plain(item['title'])}**")
            st.markdown(ui.plain(item["summary"]))
            st.caption(f"{library.KINDS[item['kind']]} · {when(item['date'])} · "
                       f"{ui.plain(item['locality'] or 'All')} · {ui.plain(item['communities'] or 'everyone')}")
    if theme != "All" and theme in set(ui.compute(library.themes)["theme"]):
        known = ui.compute(library.before_you_commission, theme=theme, community=community)
        st.subheader("Already known")
        k = st.columns(4)
        k[0].metric("Insights on it", f"{known['insights']:,}")
        k[1].metric("Newest insight", when(known["latest"]))
        k[2].metric(metric("theme_mentioned").label, metric("theme_mentioned").format(known["people"]))
        k[3].metric("Last heard", when(known["last_heard"]))

with tabs[1]:
    st.subheader("Themes across the partnership")
    ui.table(ui.compute(library.themes), "insight_themes", column_config={
        "share": st.column_config.NumberColumn(metric("theme_share").label, format="percent"),
        "share_low": st.column_config.NumberColumn("Low", format="percent"),
        "share_high": st.column_config.NumberColumn("High", format="percent"),
        "sentiment": st.column_config.NumberColumn(metric("sentiment").label, format="%+.2f")})
    st.caption(ui.plain(metric("theme_share").definition))
    dimension = st.radio("Compare by", list(library.DIMENSIONS), format_func=library.DIMENSIONS.get, horizontal=True)
    named = list(ui.compute(library.themes)["theme"])
    if named:
        chosen = st.selectbox("Theme", named)
        ui.table(ui.compute(library.prevalence, dimension=dimension, theme=chosen).drop(columns="theme"),
                 f"theme_by_{dimension}", column_config={
                     "share": st.column_config.NumberColumn(metric("theme_share").label, format="percent"),
                     "share_low": st.column_config.NumberColumn("Low", format="percent"),
                     "share_high": st.column_config.NumberColumn("High", format="percent")})
    groups = ui.compute(library.groups, dimension=dimension)
    if groups:
        grp = st.selectbox(f"What sets this {library.DIMENSIONS[dimension].lower()} apart", groups)
        apart = ui.compute(library.distinctive, dimension=dimension, grp=grp)
        ui.table(apart, f"distinctive_{dimension}")
        st.caption(ui.plain(metric("distinctive_z").definition))
        if len(apart):
            top = apart["theme"].iloc[0]
            said = ui.compute(library.quotes, theme=top, dimension=dimension, grp=grp)
            st.markdown(f"**In their words: {ui.plain(top)}** (quoted with consent, personal details removed)")
            for quote in said["quote"]:
                st.markdown(f"> {ui.plain(quote)}")

with tabs[2]:
    summary = ui.compute(library.response_summary)
    k = st.columns(3)
    k[0].metric("Insights", f"{summary['insights']:,}")
    for col, key in zip(k[1:], ("insights_answered", "reported_back")):
        col.metric(metric(key).label, metric(key).format(summary["answered" if key == "insights_answered"
                                                                   else "reported_back"]),
                   help=metric(key).definition)
    public = st.toggle("Public feedback view (to print or publish)")
    acts = ui.compute(library.actions)
    if public:
        for act in acts.to_dict("records"):
            why = f" — {ui.plain(act['reason'])}" if act["reason"] else ""
            st.markdown(f"**You said:** {ui.plain(act['title'])}  \n**We did:** {ui.plain(act['decision'])} "
                        f"({ui.plain(act['status']).lower()}{why})")
    else:
        ui.table(ui.compute(library.insights), "insights")
        ui.table(acts, "actions")

with tabs[3]:
    told = ui.compute(library.stories, board=editor is not None)
    if editor is None:
        st.caption("Some stories are shared with the Board only: editors see them once signed in. Withdrawn stories "
                   "are never shown.")
    for story in told.to_dict("records"):
        story_card(story)
    st.caption("Presentation mode (sidebar) shows one story at a time, large, to open a Board meeting.")

if editor:
    with tabs[4]:
        st.markdown("Topics found in what the codebook did not match (TF-IDF and NMF). Name one and keep it with "
                    "the phrases that find it: every comment is coded again with it.")
        ui.table(ui.compute(library.topics), "proposed_themes")
        with st.form("keep_theme"):
            name = st.text_input("Theme name", max_chars=codebook.MAX_THEME)
            phrases = st.text_area("Phrases that find it (one per line; end with * for any ending)")
            if st.form_submit_button("Keep this theme", type="primary"):
                try:
                    codebook.keep(config.pack_dir(), config.db_path(), name, phrases.splitlines())
                except codebook.CodebookRefused as exc:
                    st.error(ui.plain(exc))
                else:
                    st.success(f"Kept '{ui.plain(name)}': the store was rebuilt with it.")
