"""QR codes as SVG, drawn on the server (segno, pure Python): no external service, no image library."""

from __future__ import annotations

import io

import segno


def svg(data: str, *, scale: int = 4, title: str = "") -> str:
    """An inline ``<svg>`` element (no XML declaration) for ``data``, error correction level M."""
    code = segno.make(data, error="m", micro=False)
    return code.svg_inline(scale=scale, border=4, dark="#000000", light="#ffffff", title=title or None)


def svg_document(data: str, *, scale: int = 8) -> bytes:
    """A standalone SVG file, for printing on documents."""
    code = segno.make(data, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=scale, border=4, dark="#000000", light="#ffffff")
    return buffer.getvalue()
