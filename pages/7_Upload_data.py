"""Upload data: add a partner's survey export, typed-up paper survey or attendance sheet to the ledger (editors)."""
import pandas as pd
import streamlit as st

from analytics import config, home, ledger, mapping, reach, ui, upload
from analytics.schema import PackInvalid
from analytics.export import screen_table
from analytics.repeats import Repeats

NONE = "— not in this file —"
KINDS = {"responses": "Responses (one row per person who responded)",
         "activities": "Activities (one row per survey, focus group, meeting or event)",
         "comments": "Comments (free text, one row per response and question)",
         "insights": "Insights (findings from an activity or report)",
         "actions": "Actions (you said, we did)",
         "stories": "Stories (with the teller's consent)"}
FIELD_HELP = {
    "response_id": "A unique id per response. Not in the file? Leave it: ids are made from the batch and row.",
    "activity_id": "Which activity each row belongs to.",
    "submitted_on": "The date of the response: dates, timestamps and spreadsheet dates are all read.",
    "area_code": "Home data zone: its code or its name. Postcodes need a lookup file first.",
    "sex": "Female/Woman → F, Male/Man → M, Non-binary or self-described → X, 'Prefer not to say' → blank.",
    "age_band": "Age in years (47 → 45-49) or a five-year band. A range across two bands is refused.",
    "communities": "Communities the person belongs to, separated by ;",
    "priorities": "Priority codes or labels, separated by ;",
    "consent_to_quote": "yes or no: may the comment be quoted (personal details are removed first)?",
    "status": "planned, in progress, done or not taken (give the reason in 'reason')",
    "consent": "public, board only or withdrawn (withdrawn stories are shown nowhere)",
    "teller": "A description such as 'a carer in Stroud', never a name.",
}

ui.page_setup("Upload data", "📤")
who = ui.editor()
if who is None:
    st.stop()
pack, db = config.pack_dir(), config.db_path()

st.markdown("Add a partner's spreadsheet to the engagement ledger: a survey tool's export, a typed-up paper "
            "survey, or a focus group's attendance sheet. Nothing is added until every row passes the checks, "
            "and the last file added can be undone.")
if done := st.session_state.pop("upload_done", None):
    st.success(done, icon="✅")
    if st.button("See the figures on the home page", icon="🧭"):
        st.switch_page("dashboard.py")

kind = st.radio("What does the file hold?", list(KINDS), format_func=KINDS.get, horizontal=True)
partners = sorted(set(ui.compute(reach.ledger_options).get("partner", [])) | set(mapping.saved_partners(pack)))
partner = st.selectbox("Whose file is it? (the partner organisation)", partners, index=None,
                       accept_new_options=True, placeholder="Choose or type a partner",
                       help="A column matching is saved per partner and offered again for their next file.")
round_ = st.session_state.setdefault("upload_round", 0)  # a new uploader after each commit
file = st.file_uploader("The spreadsheet (CSV or Excel .xlsx)", type=["csv", "xlsx", "txt", "tsv"],
                        max_upload_size=upload.MAX_UPLOAD_MB, key=f"upload_{round_}")


def read(data: bytes) -> upload.RawUpload | None:
    """The upload as a table, read once per file."""
    cached = st.session_state.get("upload_raw")
    if cached and cached[0] == file.file_id:
        return cached[1]
    try:
        raw = upload.read_upload(data, ledger.plain_text(file.name))
    except upload.UploadRefused as exc:
        st.error(ui.plain(exc), icon="🚫")
        return None
    st.session_state["upload_raw"] = (file.file_id, raw)
    return raw


def match_columns(raw: upload.RawUpload) -> dict[str, str | None]:
    st.subheader("Match the columns")
    st.caption("Each ledger field on the left, and the column of your file it comes from (guessed where the names "
               "are close, or as saved for this partner).")
    headers = list(raw.frame.columns)
    saved = mapping.load_mapping(pack, partner, kind) if partner else {}
    guess = {**mapping.guess_columns(headers, kind), **{f: h for f, h in saved.items() if h in headers}}
    chosen, cells = {}, st.columns(4)
    for i, field in enumerate(mapping.FIELDS[kind]):
        options = [NONE] + headers
        start = options.index(guess[field]) if guess.get(field) in headers else 0
        pick = cells[i % 4].selectbox(field, options, index=start, help=FIELD_HELP.get(field),
                                      key=f"map_{kind}_{field}_{raw.sha256[:12]}")
        chosen[field] = None if pick == NONE else pick
    if chosen.get("area_code") and "postcode" in mapping.squash(chosen["area_code"]):
        st.warning("The area column holds postcodes. A postcode cannot be turned into a data zone without a postcode "
                   "lookup file: convert them to data zone codes first, or set area_code to "
                   f"'{NONE}'.", icon="📮")
    return chosen


LEAVE = "— not recognised: leave it (the row is refused) —"


def match_values(refused: dict[str, list[str]], choices: dict[str, tuple[str, ...]],
                 raw: upload.RawUpload) -> dict[str, dict[str, str]]:
    """Values no rule recognised, each matched by hand to one the ledger allows (offered again, as saved, for the
    partner's next file)."""
    if not refused:
        return {}
    st.subheader("Match the values")
    st.caption("These values in your file were not recognised. Choose what each one means, or leave it to see "
               "which rows hold it.")
    saved = mapping.load_values(pack, partner, kind) if partner else {}
    chosen: dict[str, dict[str, str]] = {}
    cells = st.columns(3)
    for i, (field, values) in enumerate((f, v) for f, values in refused.items() for v in values[:30]):
        options = [LEAVE, *choices[field]]
        start = saved.get(field, {}).get(values)
        pick = cells[i % 3].selectbox(f"{field}: “{ui.plain(values, 60)}”", options,  # labels read Markdown
                                      index=options.index(start) if start in options else 0,
                                      format_func=lambda o: "(blank: not given)" if o == "" else o,
                                      key=f"value_{kind}_{field}_{values}_{raw.sha256[:12]}")
        if pick != LEAVE:
            chosen.setdefault(field, {})[values] = pick
    return chosen


def whole_file_values(columns: dict[str, str | None]) -> dict[str, str] | None:
    """Values chosen here for every row: the activity a survey export belongs to; the partner of activities."""
    fixed = {}
    if kind == "responses" and not columns.get("activity_id"):
        activities = dict(ui.compute(upload.lookups).activities)
        if not activities:
            st.warning("The ledger has no activities yet: add the activity (as an activities file) first.")
            return None
        fixed["activity_id"] = st.selectbox("Which activity are these responses from?", list(activities),
                                            index=None, format_func=activities.get, placeholder="Choose one")
    if kind == "responses" and not columns.get("response_id"):
        st.caption("The file has no response id column: each response's id will be the batch id and its row.")
    if kind == "activities" and not columns.get("partner") and partner:
        fixed["partner"] = partner
    return fixed


def report(problems: list) -> None:
    st.error(f"{len(problems)} problem(s) to fix before the file can be added: change the choices above, or correct "
             "the spreadsheet and upload it again.", icon="🛑")
    frame = pd.DataFrame([{"file": p.file, "row": p.row, "column": p.column, "value": p.value, "problem": p.message}
                          for p in sorted(problems, key=lambda p: (p.row is None, p.row or 0))])
    ui.table(frame, "upload_problems")


def check(prepared: upload.Prepared, raw: upload.RawUpload) -> tuple[list, Repeats]:
    """The full check (the whole ledger with this file added) and the rows that repeat a response already in the
    ledger or in the file, once per file, matching and store."""
    key = (raw.sha256, kind, tuple(prepared.columns.items()), tuple(prepared.fixed.items()),
           tuple((f, tuple(v.items())) for f, v in prepared.values.items()), ui.meta()["pack_hash"])
    cached = st.session_state.get("upload_check")
    if not cached or cached[0] != key:
        with st.spinner("Checking every row against the ledger…"):
            cached = (key, ledger.check(pack, prepared), ledger.repeats(pack, prepared))
        st.session_state["upload_check"] = cached
    return cached[1], cached[2]


def show_repeats(found: Repeats, total: int) -> bool:
    """Issue 19: what would be added twice, before anything is; True when the editor says to add the repeats too."""
    st.warning(f"{found.count:,} of the {total:,} rows look like responses already added: {found.in_ledger:,} match "
               f"a response to the same activity already in the ledger and {found.in_file:,} repeat an earlier row "
               "of this file (the same date, area, sex, age band, communities and priorities; the file has no "
               "response ids to tell people apart). They are left out, so a file added again adds nothing twice. "
               f"The first {len(found.examples)}:", icon="♊")
    ui.table(found.examples, "upload_repeats")
    return st.checkbox("These are different people who answered alike: add these rows too", value=False,
                       key=f"add_repeats_{found.count}")


def add(prepared: upload.Prepared, data: bytes, name: str, save: bool, add_repeats: bool) -> None:
    try:
        manifest = ledger.commit(pack, db, prepared, data, original_name=name, uploaded_by=who,
                                 partner=partner or "", add_repeats=add_repeats)
    except (ledger.LedgerRefused, PackInvalid) as exc:
        st.error(ui.plain(str(exc).splitlines()[0]), icon="🚫")
        if getattr(exc, "problems", None):
            report(exc.problems)
        return
    if save and partner:
        mapping.save_mapping(pack, partner, kind, prepared.columns, who, prepared.values)
    total = ui.compute(home.overview)
    left_out = (f" {manifest['repeats_left_out']:,} repeated rows were left out."
                if manifest.get("repeats_left_out") else "")
    st.session_state["upload_done"] = (
        f"Added batch {manifest['batch_id']}: {manifest['rows']:,} {kind}.{left_out} The ledger now holds "
        f"{total['responses']:,} responses from {total['activities']:,} activities, and every page's figures "
        "include them.")
    st.session_state["upload_round"] = round_ + 1
    st.session_state.pop("upload_check", None)
    st.rerun()


def upload_section() -> None:
    if file is None:
        return
    data = file.getvalue()
    raw = read(data)
    if raw is None:
        return
    if earlier := ledger.added_before(pack, raw.sha256):  # said before any matching is asked for
        st.error(ui.plain(ledger.already_added(earlier)), icon="🚫")
        return
    for notice in raw.notices:  # may name the workbook's sheet
        st.info(ui.plain(notice), icon="ℹ️")
    columns = match_columns(raw)
    fixed = whole_file_values(columns)
    if fixed is None:
        return
    lookups = ui.compute(upload.lookups)
    prepared = upload.prepare(raw, kind, columns, lookups, fixed)
    if values := match_values(prepared.refused, upload.value_choices(lookups), raw):
        prepared = upload.prepare(raw, kind, columns, lookups, fixed, values)
    problems, found = check(prepared, raw)
    st.subheader("Preview")
    st.caption(f"The first rows of {len(prepared.frame):,}, as they will be added (personal data: shown to signed-in "
               "editors only).")
    st.dataframe(screen_table(prepared.frame.head(20)), hide_index=True)  # its toolbar downloads it too
    if problems:
        report(problems)
        return
    st.success(f"All {len(prepared.frame):,} rows pass the checks.", icon="✔️")
    add_repeats = show_repeats(found, len(prepared.frame)) if found.count else False
    adding = len(prepared.frame) - (0 if add_repeats else found.count)
    if not adding:
        st.info("Nothing new to add: every row is already in the ledger or repeats another row of this file.",
                icon="ℹ️")
        return
    save = st.checkbox(f"Save this matching (columns and values) for {ui.plain(partner)}", value=True,
                       disabled=not partner)
    if st.button(f"Add {adding:,} {kind} to the ledger", type="primary"):
        add(prepared, data, file.name, save, add_repeats)


def audit_section() -> None:
    st.header("Files added")
    log = ledger.audit(pack)
    if log.empty:
        st.caption("No file has been added from this page yet.")
        return
    ui.table(log, "ledger_batches")
    last = ledger.last_batch(pack)
    if last:
        shown = {k: ui.plain(last.get(k)) for k in ("batch_id", "rows", "kind", "uploaded_by", "uploaded_at")}
        st.markdown(f"The last file added is batch **{shown['batch_id']}** ({shown['rows']} {shown['kind']}, "
                    f"by {shown['uploaded_by']} at {shown['uploaded_at']}).")
        sure = st.checkbox("Yes, take this batch out of the ledger", key=f"undo_sure_{last['batch_id']}")
        if st.button("Undo the last file added", disabled=not sure):
            try:
                undone = ledger.undo_last(pack, db, who)
            except (ledger.LedgerRefused, PackInvalid) as exc:
                st.error(ui.plain(str(exc).splitlines()[0]), icon="🚫")
                return
            st.session_state["upload_done"] = f"Batch {undone['batch_id']} was taken out of the ledger."
            st.rerun()


upload_section()
audit_section()
