"""Insight library: what people told us, kept in one place — read it before commissioning more."""
import streamlit as st

from analytics import config, describe, figures, ui
from analytics.insight import codebook, library
from analytics.insight.library import shown_date
from analytics.metrics import metric

info = ui.page_setup("Insight library", "📚")
editor = ui.signed_in_editor()  # board-only stories and proposed themes are for signed-in editors
st.markdown("What people have already told the partnership, kept in one place: findings from engagement and the "
            "themes of their comments. **Before you commission new engagement, read this.** What was done about "
            "each finding is on *You said, we did*; people's own stories on *Stories*. Figures for groups of fewer "
            f"than {info['suppress_below']} people are withheld.")
choices = ui.compute(library.options)
tabs = st.tabs(["Search", "Themes"] + (["Proposed themes"] if editor else []))

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
            st.caption(f"{library.KINDS[item['kind']]} · {shown_date(item['date'])} · "
                       f"{ui.plain(item['locality'] or 'All')} · {ui.plain(item['communities'] or 'everyone')}")
    if theme != "All" and theme in set(ui.compute(library.themes)["theme"]):
        known = ui.compute(library.before_you_commission, theme=theme, community=community)
        st.subheader("Already known")
        k = st.columns(4)
        k[0].metric("Insights on it", f"{known['insights']:,}")
        k[1].metric("Newest insight", shown_date(known["latest"]))
        k[2].metric(metric("theme_mentioned").label, metric("theme_mentioned").format(known["people"]))
        k[3].metric("Last heard", shown_date(known["last_heard"]))

with tabs[1]:
    shares = {"share": st.column_config.NumberColumn(metric("theme_share").label, format="percent"),
              "share_low": st.column_config.NumberColumn("Low", format="percent"),
              "share_high": st.column_config.NumberColumn("High", format="percent")}
    st.subheader("Themes across the partnership")
    ui.table(ui.compute(library.themes), "insight_themes", column_config={
        **shares, "sentiment": st.column_config.NumberColumn(metric("sentiment").label, format="%+.2f")})
    st.caption(ui.plain(metric("theme_share").definition))
    dimension = st.radio("Compare by", list(library.DIMENSIONS), format_func=library.DIMENSIONS.get, horizontal=True)
    named = list(ui.compute(library.themes)["theme"])
    if named:
        chosen = st.selectbox("Theme", named)
        by = ui.compute(library.prevalence, dimension=dimension, theme=chosen).drop(columns="theme")
        overall = ui.compute(library.themes).set_index("theme")["share"].get(chosen, float("nan"))
        where = library.DIMENSIONS[dimension].lower()
        ui.chart(ui.figure(("theme_by", dimension, chosen), lambda: figures.bars(
            by, "share", "grp", f"People mentioning '{chosen}', by {where}, with 95% intervals (dashed: everyone)",
            metric("theme_share").label, error=("share_low", "share_high"), reference=overall,
            text_format="{:.0%}", share=True)),
                 ui.said(("theme_by", dimension, chosen), lambda: describe.theme_prevalence(by, chosen, overall, where)),
                 by, f"theme_by_{dimension}", slot="theme_by")
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

if editor:
    with tabs[2]:
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
