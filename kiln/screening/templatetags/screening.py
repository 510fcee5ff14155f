from django import template

register = template.Library()


@register.filter
def has_screening(membership) -> bool:
    """The membership may open the screening dashboard and the incident board."""
    from kiln.screening.queries import sees_screening

    return sees_screening(membership)


@register.filter
def months(finding) -> str:
    """The month a finding is about; a gap of missing evidence as its first to last month."""
    from kiln.screening.display import months as months_text

    return months_text(finding)


@register.filter
def gap_months(finding) -> list[str]:
    """Every month of a gap of missing evidence; [] for other findings."""
    from kiln.screening.display import gap_months as months_of

    return months_of(finding)


@register.filter
def warning_level(level: str) -> str:
    """A red / yellow / blue warning level (``screening_rollup.LEVELS``) in the user's language."""
    from django.utils.translation import gettext as _

    labels = {"red": _("Red"), "yellow": _("Yellow"), "blue": _("Blue"), "none": _("none")}
    return labels.get(level, level)


@register.filter
def event_action(action: str) -> str:
    """A timeline entry's action: a workflow action's label, or what Kiln itself did."""
    from django.utils.translation import gettext as _

    from kiln.screening.workflow import Action

    if action in Action.values:
        return Action(action).label
    own = {
        "created": _("raised by screening"),
        "refused": _("refused attempt"),
        "regraded": _("severity changed"),
    }
    return own.get(action, action)


@register.filter
def finding_status(status: str) -> str:
    from kiln.screening.models import Finding

    return Finding.Status(status).label if status in Finding.Status.values else status


@register.filter
def review_level(level: str) -> str:
    from kiln.screening.models import Level

    return Level(level).label if level in Level.values else level


@register.filter
def add_part(first, second) -> list[str]:
    """``a|add_part:b|add_part:c``: the non-empty texts of a rule's scope, in order."""
    parts = list(first) if isinstance(first, list) else [first]
    return [p for p in [*parts, second] if p]


@register.filter
def json_text(value) -> str:
    """A rule's parameters as JSON ("" when there are none)."""
    import json

    return json.dumps(value, ensure_ascii=False) if value else ""
