"""QR codes made locally (segno writes PNG itself: no service, works offline)."""
from __future__ import annotations

import io

import segno


def qr_png(url: str, scale: int = 12) -> bytes:
    """A PNG QR code of `url`. An image rather than inline SVG: st.html's sanitiser removes <svg> elements, so
    an inline QR code never reached the browser."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
