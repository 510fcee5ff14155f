from django import template

from kiln.reports.numbers import format_factor, format_number

register = template.Library()


@register.filter
def num(value, places=2):
    """``{{ value|num:2 }}``: 1,234.57; an em dash for None."""
    return format_number(value, int(places))


@register.filter
def factor(value):
    """``{{ value|factor }}``: a factor with its significant digits."""
    return format_factor(value)


@register.filter
def percent(value, places=1):
    return "—" if value is None else f"{float(value) * 100:.{int(places)}f}%"
