"""Number formatting for the portals: thousands separators, signed percentages, trend arrows."""

from __future__ import annotations

import math

from django import template
from django.utils.dates import MONTHS_AP

register = template.Library()
DASH = "—"


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@register.filter
def num(value, decimals=0):
    """12345.678 → "12,346" (or with ``decimals`` places); missing → "—"."""
    if not _finite(value):
        return DASH
    decimals = int(decimals)
    text = f"{value:,.{decimals}f}"
    return "0" if text in ("-0", "-0.0", "-0.00", "-0.000") else text


@register.filter
def pct(value, decimals=1):
    """0.0534 → "+5.3%"; missing → "—"."""
    if not _finite(value):
        return DASH
    return f"{value * 100:+.{int(decimals)}f}%"


@register.filter
def share(value, decimals=1):
    """0.0534 → "5.3%" (no sign)."""
    if not _finite(value):
        return DASH
    return f"{value * 100:.{int(decimals)}f}%"


@register.filter
def trend(value):
    """CSS class of a change: up, down or flat (a change within ±0.05 % is flat)."""
    if not _finite(value) or abs(value) < 0.0005:
        return "flat"
    return "up" if value > 0 else "down"


@register.filter
def arrow(value):
    if not _finite(value) or abs(value) < 0.0005:
        return "→"
    return "↑" if value > 0 else "↓"


@register.filter
def cell(value, column):
    """A table cell formatted by its column's kind."""
    if column.kind == "percent":
        return pct(value, column.decimals)
    if column.kind == "share":
        return share(value, column.decimals)
    if column.kind == "number":
        return num(value, column.decimals)
    return DASH if value in (None, "") else value


@register.filter
def has_portal(membership) -> bool:
    """Whether the acting membership has a monitoring portal (for the navigation)."""
    from kiln.monitoring.queries import portal_of

    return portal_of(membership) != "none"


@register.simple_tag
def month_name(month):
    return str(MONTHS_AP[int(month)]).rstrip(".")
