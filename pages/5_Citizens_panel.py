"""Citizens Panel: design a panel that looks like the partnership's residents (with priority areas
over-sampled), follow recruitment against its quotas, and select a panel from volunteers."""
import streamlit as st

from analytics import figures, panel, ui
from analytics.export import safe_csv
from analytics.metrics import metric

info = ui.page_setup("Citizens panel", "🧑‍🤝‍🧑")
st.markdown("Design a Citizens Panel representative of residents aged 15 and over, with extra places in the "
            "priority areas where health inequalities are worst, and see what the over-sample costs **before** "
            f"recruiting. Counts of volunteers and members under {info['suppress_below']} are withheld.")
YES_NO = {"yes": "Yes", "no": "No"}
AGES = {"age_group": "Age group (15-34, 35-64, 65-84, 85+)", "age_band": "Five-year band", "none": "No"}


def query_multi(key: str, options: dict[str, str], default: tuple[str, ...], label: str) -> tuple[str, ...]:
    """A multiple choice held in the URL as repeated ?key=… values ('none' for an empty choice)."""
    wanted = st.query_params.get_all(key)
    unknown = [w for w in wanted if w not in options and w != "none"]
    if unknown:
        st.info(f"The address asked for {label.lower()} '{ui.plain(unknown[0], ui.ECHO_LIMIT)}', which is not "
                "available; it was left out.")
    current = [w for w in wanted if w in options] if wanted else list(default)
    choice = st.multiselect(label, list(options), default=current, format_func=options.get, key=f"filter_{key}")
    if tuple(choice) == tuple(default):
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = choice or "none"
    return tuple(choice)


st.header("Design")
c1, c2, c3 = st.columns(3)
with c1:
    size = ui.query_choice("size", panel.SIZES, 1000, "Panel size (members)", widget=st.select_slider,
                           format_func="{:,}".format)
with c2:
    oversample = ui.query_choice("oversample", panel.OVERSAMPLE, 2.0, "Over-sample priority areas by",
                                 widget=st.select_slider, format_func=lambda v: f"{v:g}×")
with c3:
    priority = query_multi("priority", ui.compute(panel.priority_options), panel.DEFAULT_PRIORITY,
                           "Priority areas")
s1, s2, s3, s4 = st.columns(4)
with s1:
    by_locality = ui.query_choice("by_locality", list(YES_NO), "yes", "Locality", widget=st.radio,
                                  format_func=YES_NO.get, horizontal=True)
with s2:
    age = ui.query_choice("by_age", list(AGES), "age_group", "Age", widget=st.radio, format_func=AGES.get)
with s3:
    by_sex = ui.query_choice("by_sex", list(YES_NO), "yes", "Sex", widget=st.radio, format_func=YES_NO.get,
                             horizontal=True)
with s4:
    by_quintile = ui.query_choice("by_quintile", list(YES_NO), "no", "Deprivation quintile", widget=st.radio,
                                  format_func=YES_NO.get, horizontal=True)
strata = panel.strata_from(by_locality == "yes", age, by_sex == "yes", by_quintile == "yes")
d = {"size": size, "strata": strata, "oversample": oversample, "priority": priority}
key = tuple(str(v) for v in d.values())
try:
    sheet = ui.compute(panel.quotas, **d)
    effects = ui.compute(panel.design, **d)
except panel.PanelInputError as exc:
    st.error(ui.plain(exc))
    st.stop()

c = st.columns(4)
c[0].metric("Panel members", f"{effects['members']:,.0f}")
c[1].metric("Strata", f"{effects['strata']:,.0f}", help="Combinations of the chosen dimensions"
            + (", split into priority and other areas." if "priority_area" in sheet else "."))
c[2].metric(metric("effective_n").label, metric("effective_n").format(effects["effective_n"]),
            help=metric("effective_n").definition)
c[3].metric(metric("design_effect").label, metric("design_effect").format(effects["design_effect"]),
            help=metric("design_effect").definition)
st.markdown(panel.describe_design(effects))
shares = panel.shares_by_dimension(sheet)
ui.chart(ui.figure(("panel_shares", *key), lambda: figures.paired_bars(
    shares, "label", {"population_share": "Residents aged 15+", "panel_share": "Panel (quotas)"},
    "Share of residents and of the panel, by each dimension of the design", "%")),
         "Over-sampled groups have a larger share of the panel than of residents; the design weights in the quota "
         "sheet undo this when results are reported.", shares, "panel_shares")

st.subheader("Quota sheet")
st.caption(f"{metric('panel_quota').definition} {metric('design_weight').definition}")
ui.table(sheet, "panel_quota_sheet", column_config={
    "population_share": st.column_config.NumberColumn("population share", format="percent"),
    "panel_share": st.column_config.NumberColumn("panel share", format="percent"),
    "design_weight": st.column_config.NumberColumn("design weight", format="%.3f"),
    "residents_per_member": st.column_config.NumberColumn("residents per member", format="%.0f")})

st.header("Recruitment progress")
status = ui.compute(panel.recruitment)
source = None
if status["ledger"]:
    source = "ledger"
    st.markdown(f"Active members in the panel ledger: **{metric('recruited').format(status['active'])}**.")
else:
    st.info("No Citizens Panel members are recorded yet. Add **panel.csv** to the area pack (columns member_id, "
            "area_code, sex, age_band, communities, joined_on, status — see the data contract) and recruitment "
            "will be followed here against the quotas.")
    if st.toggle("Use engagement respondents as an example pool", key="standin_progress",
                 help="For demonstration only: respondents with a known home area, sex and age band stand in for "
                      "panel members. They never said they would join a panel."):
        source = "standin"
if source:
    prog = ui.compute(panel.progress, source=source, **d)
    st.markdown(ui.sentence(panel.describe_progress(prog)))  # names strata (localities)
    gaps = prog.head(15)
    ui.chart(ui.figure(("panel_progress", source, *key), lambda: figures.paired_bars(
        gaps, "stratum", {"quota": "Quota", "recruited": "Recruited"}, "Quota and recruited: the 15 strata furthest from their quota",
        "members", text_format="{:,.0f}")),
             "Strata are ordered by how many members are still to recruit; a withheld count is below the "
             "disclosure threshold.", gaps, "panel_progress_gaps")
    ui.table(prog, "panel_recruitment_progress", column_config={
        "percent_of_quota": st.column_config.ProgressColumn("% of quota", format="%.0f%%", min_value=0,
                                                            max_value=100)})

st.header("Select a panel from volunteers")
st.markdown("Upload the volunteers as a CSV file with the columns `member_id`, `area_code`, `sex` (F or M) and "
            "`age_band` (five-year bands such as 35-39, or 90+). Volunteers are drawn at random within each "
            "stratum to meet the quotas; where a stratum has too few volunteers its shortfall is moved to strata "
            "with spare volunteers, in proportion to their quotas.")
if ui.editor() is None:  # volunteer lists and the selected ids are records of people: editors only
    st.stop()
kind = st.radio("Volunteers", ["upload", "standin"], horizontal=True, key="pool_source", format_func={
    "upload": "Upload a list", "standin": "Example pool (engagement respondents)"}.get)
upload = st.file_uploader("Volunteer list (CSV)", type="csv", key="pool_upload") if kind == "upload" else None
seed = st.number_input("Random seed (the same seed and volunteers always give the same panel)", min_value=0,
                       max_value=2**31 - 1, value=1, step=1, key="seed")
if kind == "upload" and upload is None:
    st.caption("Choose a file to see whether the quotas can be met and to select the panel.")
else:
    try:
        # An uploaded list is this editor's alone: selected directly, never kept in the cache every session shares.
        chosen = (ui.compute(panel.select, seed=int(seed), **d) if upload is None else
                  panel.select(ui.store(), seed=int(seed), pool_csv=upload.getvalue(), **d))
    except panel.PoolInvalid as exc:
        st.error(f"The volunteer list has {len(exc.problems)} problem(s), so no one was selected. Fix them and "
                 "upload it again:")
        st.markdown("\n".join(f"- {ui.plain(problem)}" for problem in exc.problems))  # values from the upload
    except panel.PanelInputError as exc:
        st.error(ui.plain(exc))
    else:
        (st.success if chosen.feasible else st.warning)(chosen.message)
        m = st.columns(4)
        m[0].metric("Eligible volunteers", metric("recruited").format(chosen.summary["volunteers"]))
        m[1].metric("Left out (aged under 15)", metric("recruited").format(chosen.summary["outside_base"]))
        m[2].metric("Selected", metric("recruited").format(chosen.summary["selected"]))
        m[3].metric(metric("design_effect").label + " of the selection",
                    metric("design_effect").format(chosen.summary["design_effect"]))
        ui.table(chosen.table, "panel_selection_by_stratum")
        st.download_button("Download the selected member ids (CSV)", safe_csv(chosen.ids),
                           file_name=f"panel_selection_seed_{int(seed)}.csv", mime="text/csv",
                           key="download_selected_ids", icon=":material/download:")
        st.caption("The download holds the selected members' ids and nothing else — no areas, ages or other "
                   "details — to be matched against your own volunteer records. The ids are never shown on screen.")
