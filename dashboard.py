"""Home: who needs care and who engagement has reached, side by side — clear in ten seconds."""
import html
from datetime import date

import streamlit as st

from analytics import briefing, describe, figures, home, needs, qr, reach, ui
from analytics.metrics import metric

info = ui.page_setup("Reach & Need", "🧭", show_title=False)
present = ui.presentation_mode()
base_year = int(info["base_year"])
last_year = int(ui.compute(needs.variants)["last_year"].iloc[0])
years = list(range(base_year + 1, last_year + 1))


def headline_metrics(facts: dict, year: int, under: int) -> None:
    c = st.columns(3 if present else 6)
    c[0].metric("Residents", f"{facts['residents']:,.0f}", help=f"Population in {base_year}")
    c[1].metric(f"Aged 75+ by {year}", f"{facts['growth_75']:+.0f}%",
                help=f"{facts['aged_75_base']:,.0f} in {base_year} → {facts['aged_75_projected']:,.0f} in {year} "
                     "(principal projection)")
    c[2].metric("Respondents", metric("respondents").format(facts["respondents"]),
                help=f"From {facts['activities']:,} engagement activities")
    if not present:
        c[3].metric("Respondents per 1,000", metric("respondents_per_1000").format(facts["per_1000"]))
        c[4].metric("Similarity (age × sex)", metric("proportional_similarity").format(
            facts["proportional_similarity"]), help=metric("proportional_similarity").definition + " By age × sex.")
        c[5].metric("Under-reached groups", f"{under}",
                    help=metric("under_reached").definition + " See Hard to reach.")


def need_reach_map(year: int) -> None:
    frame = ui.compute(home.need_reach, year=year)
    left, right = st.columns([3, 1])
    with left:  # on a slide, the same map with type sized for a hall
        ui.chart(ui.figure(("bivariate", year, present), lambda: figures.for_hall(figures.bivariate_map(
            ui.map_layer("neighbourhood"), frame, "neighbourhood_code",
            f"Need ({year}) × reach by {info['neighbourhood_label']}", hover="neighbourhood_name"), present)),
                 ui.said(("bivariate", year), lambda: describe.bivariate(frame)), frame, f"need_by_reach_{year}",
                 slot="need_by_reach")
    with right:
        st.html(figures.bivariate_legend_html())
        st.markdown("**Magenta areas** (top left of the legend) have high need and low reach: the first places to "
                    "go. Hover over an area, or open the table under the map, for its figures.")


def gap_sentences(count: int) -> None:
    """The `count` largest gaps, each with a link to it on Hard to reach."""
    gaps = ui.said(("gaps", count), lambda: [(row["group"], describe.gap(row)) for _, row in
                                              ui.compute(home.under_reached).head(count).iterrows()])
    for group, sentence in gaps:
        st.markdown(f"- {ui.sentence(sentence)}")
        if not present:  # a link on a projector is something nobody in the hall can click
            st.page_link("pages/3_Hard_to_reach.py", label=f"Why: {ui.plain(group)}", icon="🔎",
                         query_params={"group": group})


SLIDES = ("Reach & Need", "Who lives here", "Need and reach", "Who we have not heard", "Who we heard", "Join in")


def title_slide() -> None:
    """What the talk is about, whose figures they are and when they were shown."""
    st.html(f'<div class="title-slide"><p class="title-slide-name">{html.escape(info["name"])}</p>'
            '<p>Who needs care now and in future, and who our engagement has reached — side by side, so the gaps '
            f'show.</p><p class="title-slide-date">{date.today():%-d %B %Y}</p></div>')


def join_in_slide() -> None:
    """The QR code and its written address, sized to fit one screen; a presenter is warned when the address is
    this computer's own (phones in the hall could not open it)."""
    url = ui.public_url()
    local = ui.is_local_address(url)
    if local:
        with st.container(key="qr_warning"):
            st.warning(f"Presenter: this address ({ui.plain(url)}) only works on this computer. Set "
                       "REACH_PUBLIC_URL to the address phones in the hall can open (see README), then restart.",
                       icon="⚠️")
    with st.container(key="qr_slide"), st.container(key="qr_warned" if local else "qr_plain"):
        st.image(qr.qr_png(url), output_format="PNG", alt=f"QR code for {url}")
        st.html(f'<p class="qr-address">{html.escape(url)}</p>')


def slideshow() -> None:
    """One slide of the launch-event story; Next/Back (or arrow keys), and ?autoplay=N seconds advances alone."""
    back, title, forward = st.container(key="slide_head").columns([1, 6, 1], vertical_alignment="center")
    # Moved in callbacks, before the run: moved after drawing Back, Back would keep the old slide's state
    # (disabled on the second slide, so the left arrow did nothing).
    step = ui.slide_step(len(SLIDES))
    back.button("Back ◀", disabled=step == 0, on_click=ui.slide_step, args=(len(SLIDES), -1))
    forward.button("Next ▶", disabled=step == len(SLIDES) - 1, on_click=ui.slide_step, args=(len(SLIDES), +1))
    title.markdown(f"## {SLIDES[step]}  \n{ui.plain(info['name'])} · slide {step + 1} of {len(SLIDES)}")
    year = min(base_year + 10, last_year)
    if step == 0:
        title_slide()
    elif step == 1:
        facts = {**ui.compute(home.engagement_facts), **ui.compute(home.aged_75, year=year)}
        headline_metrics(facts, year, len(ui.compute(home.under_reached)))
        st.markdown(f"By {year} the number of residents aged 75 and over grows from {facts['aged_75_base']:,.0f} "
                    f"to {facts['aged_75_projected']:,.0f}.")
    elif step == 2:
        need_reach_map(year)
    elif step == 3:
        gap_sentences(3)
    elif step == 4:
        rep = ui.compute(reach.representation, dimension="age_group+sex")
        ui.chart(ui.figure(("present_representation",), lambda: figures.for_hall(figures.bars(
            rep, "ratio", "group", "Representation by age and sex (1 = heard in proportion)", "ratio",
            error=("ratio_low", "ratio_high"), reference=1, text_format="{:.2f}", flag="flag"))),
            describe.representation(rep, "age and sex"), rep, "present_representation")
    else:
        join_in_slide()


if present:
    ui.autoplay(slideshow, len(SLIDES))
    st.stop()

st.title(ui.plain(info["name"]))
st.markdown("**Who needs care now and in future**, and **who our engagement has reached** — side by side, so the "
            "gaps show.")
with st.columns([1, 3])[0]:
    year = ui.query_choice("year", years, min(base_year + 10, last_year), "Projection year")
facts = {**ui.compute(home.engagement_facts), **ui.compute(home.aged_75, year=year)}
under = ui.compute(home.under_reached)
headline_metrics(facts, year, len(under))

st.header("Where need is high and reach is low")
need_reach_map(year)

st.header("The five largest gaps")
gap_sentences(5)

st.header("Explore")
c = st.columns(3)
c[0].page_link("pages/1_Needs_profile.py", label="Needs profile", icon="🧭")
c[1].page_link("pages/2_Engagement_reach.py", label="Engagement reach", icon="📣")
c[2].page_link("pages/3_Hard_to_reach.py", label="Hard to reach", icon="🔎")
store = ui.store()  # the briefing is made only when asked for: it costs more than the rest of the page
st.download_button("Download a one-page briefing for an IJB paper (HTML, print to PDF)",
                   lambda: briefing.briefing_html(store, year), file_name=f"reach-and-need-briefing-{year}.html",
                   mime="text/html", icon=":material/description:", on_click="ignore")
