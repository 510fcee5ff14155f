"""Number formatting shared by the templates (filters in ``templatetags.monitoring``) and the tables."""

from __future__ import annotations

import math

DASH = "—"


def finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def number(value, decimals: int = 0) -> str:
    """12345.678 → "12,346" (or with ``decimals`` places); missing → "—"."""
    if not finite(value):
        return DASH
    text = f"{value:,.{int(decimals)}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def percent(value, decimals: int = 1) -> str:
    """A change: 0.0534 → "+5.3%"."""
    if not finite(value):
        return DASH
    return f"{value * 100:+.{int(decimals)}f}%"


def share(value, decimals: int = 1) -> str:
    """A part of a whole: 0.0534 → "5.3%"."""
    if not finite(value):
        return DASH
    return f"{value * 100:.{int(decimals)}f}%"


def trend(value) -> str:
    """CSS class of a change: up, down or flat (within ±0.05 %)."""
    if not finite(value) or abs(value) < 0.0005:
        return "flat"
    return "up" if value > 0 else "down"


def arrow(value) -> str:
    if not finite(value) or abs(value) < 0.0005:
        return "→"
    return "↑" if value > 0 else "↓"


def cell(value, kind: str, decimals: int = 0) -> str:
    if kind == "percent":
        return percent(value, decimals)
    if kind == "share":
        return share(value, decimals)
    if kind == "number":
        return number(value, decimals)
    return DASH if value in (None, "") else str(value)
