"""QR codes made locally (segno writes SVG itself: no service, works offline)."""
from __future__ import annotations

import segno


def qr_svg(url: str, scale: int = 8) -> str:
    """An inline SVG QR code of `url` with a text title for screen readers."""
    return segno.make(url, error="m").svg_inline(scale=scale, title=f"QR code for {url}", dark="#000000",
                                                  light="#ffffff")
