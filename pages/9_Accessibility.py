"""Accessibility statement."""
import streamlit as st

from analytics import ui

ui.page_setup("Accessibility statement", "♿")
st.markdown("""
We want as many people as possible to be able to use this dashboard. It aims to meet the
**Web Content Accessibility Guidelines (WCAG) 2.2 at level AA**.

**What we do**
- Every chart has a sentence describing what it shows, generated from the same data, and the numbers behind
  it in a table one click away, which you can download as CSV.
- Colour never carries meaning on its own: bars and cells carry their values as text, lines have different
  marker shapes and labels, map classes are named in the legend and on hover. Palettes (Okabe–Ito, Cividis and a
  blue–purple bivariate scheme) are chosen to be readable with colour-vision deficiency.
- Every page works with a keyboard, and on a phone 390 pixels wide.
- Views can be shared as a link: the filters are kept in the address.
- The dashboard makes no request outside its own server: no web fonts, map tiles or scripts from elsewhere.

**How we test it** — every page is opened in a real browser (headless Chromium) at desktop and phone widths
and checked automatically with axe-core for WCAG 2.2 A and AA failures; the build fails on any serious or
critical one.

**Known limitations**
- Maps are drawn on a canvas: use the table under each map, which holds every value, with a screen reader.
- Plotly's chart toolbar icons have English tooltips only.

**Feedback** — if you find a problem, tell the partnership's engagement team; we aim to reply within
5 working days.
""")
