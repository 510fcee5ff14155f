"""One number format for every report format (PDF, DOCX, pages), so a figure reads the same everywhere."""

from __future__ import annotations

import math


def format_number(value, places: int = 2) -> str:
    """Thousands separators, fixed decimals, no negative zero; ``—`` for None or NaN."""
    if value is None:
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "—"
    rounded = round(number, places)
    if rounded == 0:
        rounded = 0.0
    return f"{rounded:,.{places}f}"


def format_factor(value) -> str:
    """Factors keep their significant digits (0.02637, 20.908, 0.5703)."""
    if value is None:
        return "—"
    return f"{float(value):.6g}"
