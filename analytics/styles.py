"""The dashboard's own CSS and the little script it needs, written into each page (no external files: it works
offline). Kept here so analytics/ui.py stays about drawing pages."""
from __future__ import annotations

# Streamlit draws captions at 60% opacity: 3.9:1 on white, under WCAG AA's 4.5:1 for text of their size.
# Chart titles: written above each chart as text that wraps (ui.chart); the figure's own title, kept for the PNG
# download, is hidden on screen. Narrow screens (phones): containers keyed "wide_*" are hidden and "narrow_*"
# shown (e.g. the heatmap becomes a sorted list); wide tables scroll inside their own box.
# Print: no sidebar, header, toolbar, buttons or expanders' chrome; maps print from a snapshot (MAP_SCRIPT).
BASE_CSS = """<style>
[data-testid="stCaptionContainer"] {opacity: 1; color: #555555;}
p.chart-title {font-weight: 600; font-size: 1.05rem; margin: 0.5rem 0 0 0; line-height: 1.3;}
.stPlotlyChart .gtitle {display: none;}
/* Headline labels wrap instead of being cut off ("Under-reached gr…" at 1366 px) */
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; height: auto !important;}
[class*="st-key-narrow_"] {display: none;}
@media (max-width: 640px) {
  [class*="st-key-wide_"] {display: none;}
  [class*="st-key-narrow_"] {display: block;}
  .stPlotlyChart .modebar-container {display: none;}
}
@media print {
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
  [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
  [data-testid="stDownloadButton"], [data-testid="stExpander"], .modebar-container, [data-testid="stPageLink"]
  {display: none !important;}
  [data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stMainBlockContainer"]
  {margin: 0 !important; padding: 0 !important; max-width: 100% !important; width: 100% !important;
   overflow: visible !important; position: static !important; height: auto !important;}
  .stPlotlyChart, [data-testid="stElementContainer"] {break-inside: avoid;}
  * {print-color-adjust: exact; -webkit-print-color-adjust: exact;}
  img.map-snapshot {display: block !important;}
  .stPlotlyChart .maplibregl-canvas {visibility: hidden;}
}
img.map-snapshot {display: none; position: absolute; left: 0; top: 0; width: 100%; height: 100%;
                  pointer-events: none;}
.map-labels span {position: absolute; transform: translate(-50%, -50%); pointer-events: none; white-space: nowrap;
                  font: 600 13px "Source Sans Pro", sans-serif; color: #111111;
                  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff;}
</style>"""

# Maps (maplibre, WebGL). Two things plotly cannot do offline, done here for every map on the page:
# - printing: WebGL's picture is gone by the time the browser prints, so a printed map was blank. After each time a
#   map draws, its picture is copied into an image shown only in print.
# - names: map text needs font glyphs from a CDN, so the localities' names (figures._map_layout puts them in the
#   figure's meta) are written as page text over the map and moved with it.
MAP_SCRIPT = """<script>
(() => {
  if (window.__reachMaps) return;
  window.__reachMaps = true;
  const snap = (map) => {
    const canvas = map.getCanvas(), box = map.getContainer();
    let img = box.querySelector('img.map-snapshot');
    if (!img) {
      img = document.createElement('img');
      img.className = 'map-snapshot';
      img.alt = '';
      box.appendChild(img);
    }
    try { img.src = canvas.toDataURL('image/png'); } catch (e) { /* a map still loading: next draw */ }
  };
  const place = (map, labels) => {
    const box = map.getContainer();
    let layer = box.querySelector('.map-labels');
    if (!layer) {
      layer = document.createElement('div');
      layer.className = 'map-labels';
      layer.setAttribute('aria-hidden', 'true');  // the names are in the chart's description and table
      for (const l of labels) {
        const span = document.createElement('span');
        span.textContent = new DOMParser().parseFromString(l.name, 'text/html').documentElement.textContent;
        layer.appendChild(span);
      }
      box.appendChild(layer);
    }
    const w = box.clientWidth, h = box.clientHeight;
    labels.forEach((l, i) => {
      const p = map.project([l.lon, l.lat]), span = layer.children[i];
      span.style.left = p.x + 'px'; span.style.top = p.y + 'px';
      const half = span.offsetWidth / 2;  // a name cut by the map's edge is hidden, not shown in part
      span.style.visibility = p.x - half < 0 || p.y < 8 || p.x + half > w || p.y > h - 8 ? 'hidden' : '';
    });
  };
  // Streamlit names the home page after its file ("dashboard", issue 20) and offers no other name without
  // st.navigation (which breaks direct page addresses here): the navigation's text says Home instead.
  const nameHome = () => {
    const link = document.querySelector('[data-testid="stSidebarNavItems"] [data-testid="stSidebarNavLink"]');
    if (!link) return;
    const walker = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeValue.trim() === 'dashboard') node.nodeValue = 'Home';
    }
  };
  const watch = () => {
    nameHome();
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      const map = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot
        && gd._fullLayout.map._subplot.map;
      if (!map) continue;
      const labels = (gd.layout.meta && gd.layout.meta.labels) || [];
      if (map.__reach === labels) continue;  // a redrawn figure brings new labels
      map.__reach = labels;
      const old = map.getContainer().querySelector('.map-labels');
      if (old) old.remove();
      map.on('render', () => { place(map, map.__reach); if (map.loaded()) snap(map); });
      place(map, labels);
    }
  };
  watch();
  setInterval(watch, 500);
})();
</script>"""

# Presentation mode: no sidebar or toolbar, type sized for a hall; local CSS only (works offline).
PRESENTATION_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"],
header[data-testid="stHeader"] {display: none !important;}
html, .stMarkdown p, .stMarkdown li {font-size: 1.6rem;}
p.chart-title {font-size: 1.8rem;}
[data-testid="stMetricValue"] {font-size: 3.2rem;}
[data-testid="stMetricLabel"] p {font-size: 1.4rem;}
[data-testid="stCaptionContainer"] p {font-size: 1.3rem;}
[data-testid="stMainBlockContainer"] {max-width: 100% !important; padding: 0.5rem 2rem 1rem 2rem !important;}
p.demo-marker {position: fixed; right: 0.75rem; bottom: 0.5rem; margin: 0; font-size: 0.9rem !important;
               color: #555555; background: #ffffffe6; padding: 0.1rem 0.5rem; z-index: 10;}
.title-slide {margin-top: 4vh;} .title-slide p {font-size: 1.3rem; max-width: 40em;}
.title-slide p.title-slide-name {font-size: 2.6rem; font-weight: 700; line-height: 1.1; margin-bottom: 1.5rem;}
.title-slide p.title-slide-date {font-size: 1.1rem; color: #555555;}
/* The QR code and its written address fit one screen, from a phone to 1920x1080 (issue 20): the code is as tall
   as the screen leaves after the slide's heading, the address and (for a local address) the presenter's warning */
.st-key-qr_slide [data-testid="stElementContainer"], .st-key-qr_slide [data-testid="stFullScreenFrame"],
.st-key-qr_slide [data-testid="stImage"] {width: 100% !important; display: flex; justify-content: center;}
.st-key-qr_slide img {height: min(calc(100vh - 350px), 90vw) !important; width: auto !important;
                      max-width: 100%; image-rendering: pixelated;}
.st-key-qr_warned img {height: min(calc(100vh - 480px), 90vw) !important;}
.st-key-slide_head h2 {font-size: 2.6rem; padding: 0;} .st-key-slide_head p {font-size: 1.1rem !important;}
.st-key-qr_warning [data-testid="stAlert"] p {font-size: 17px !important;}  /* for the presenter, not the hall */
p.qr-address {font-size: 1.4rem; text-align: center; overflow-wrap: anywhere; margin: 0.5rem 0 0 0;}
</style>"""

# Right arrow, Page Down or space → the "Next" button; left arrow or Page Up → "Back" (as presentation clickers
# send). Registered once per page, in the page itself (no external script).
PRESENTATION_KEYS = """<script>
if (!window.__reachKeys) {
  window.__reachKeys = true;
  document.addEventListener('keydown', (e) => {
    if (['INPUT', 'TEXTAREA', 'SELECT'].includes((e.target.tagName || '').toUpperCase())) return;
    const want = {ArrowRight: 'Next', PageDown: 'Next', ' ': 'Next', ArrowLeft: 'Back', PageUp: 'Back'}[e.key];
    if (!want) return;
    const button = [...document.querySelectorAll('button')].find(b => b.innerText.trim().startsWith(want));
    if (button) { e.preventDefault(); button.click(); }
  });
}
</script>"""
