"""You said, we did: each finding, what was decided about it and whether people were told — and a public view to
print or publish."""
import streamlit as st

from analytics import ui
from analytics.insight import library
from analytics.metrics import metric

ui.page_setup("You said, we did", "🤝")
st.markdown("For each finding from engagement, what the partnership decided, who owns it, where it stands and "
            "whether the people who told us were told back.")
summary = ui.compute(library.response_summary)
k = st.columns(3)
k[0].metric("Insights", f"{summary['insights']:,}")
for col, key, value in zip(k[1:], ("insights_answered", "reported_back"), ("answered", "reported_back")):
    col.metric(metric(key).label, metric(key).format(summary[value]), help=metric(key).definition)
acts = ui.compute(library.actions)
if st.toggle("Public feedback view (to print or publish)"):
    for act in acts.to_dict("records"):
        why = f" — {ui.plain(act['reason'])}" if act["reason"] else ""
        st.markdown(f"**You said:** {ui.plain(act['title'])}  \n**We did:** {ui.plain(act['decision'])} "
                    f"({ui.plain(act['status']).lower()}{why})")
else:
    ui.table(ui.compute(library.insights), "insights")
    ui.table(acts, "actions")
