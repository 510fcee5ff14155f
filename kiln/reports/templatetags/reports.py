from django import template
from django.utils.safestring import mark_safe

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


@register.filter
def cssstr(value):
    """Text safe inside a double-quoted CSS string (page headers): no quotes, backslashes or line breaks."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
    return mark_safe(text)  # noqa: S308 - quotes, backslashes and "<" are escaped above; HTML entities would show as text
