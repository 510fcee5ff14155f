"""Number formatting for the portals: thousands separators, signed percentages, trend arrows."""

from __future__ import annotations

from django import template
from django.utils.dates import MONTHS_AP

from kiln.monitoring import formatting

register = template.Library()


@register.filter
def num(value, decimals=0):
    """12345.678 → "12,346" (or with ``decimals`` places); missing → "—"."""
    return formatting.number(value, int(decimals))


@register.filter
def pct(value, decimals=1):
    """0.0534 → "+5.3%"; missing → "—"."""
    return formatting.percent(value, int(decimals))


@register.filter
def share(value, decimals=1):
    """0.0534 → "5.3%" (no sign)."""
    return formatting.share(value, int(decimals))


@register.filter
def trend(value):
    """CSS class of a change: up, down or flat."""
    return formatting.trend(value)


@register.filter
def arrow(value):
    return formatting.arrow(value)


@register.filter
def cell(value, column):
    """A table cell formatted by its column's kind."""
    return formatting.cell(value, column.kind, column.decimals)


@register.filter
def has_portal(membership) -> bool:
    """Whether the acting membership has a monitoring portal (for the navigation)."""
    from kiln.monitoring.queries import portal_of

    return portal_of(membership) != "none"


@register.simple_tag
def month_name(month):
    return str(MONTHS_AP[int(month)]).rstrip(".")
