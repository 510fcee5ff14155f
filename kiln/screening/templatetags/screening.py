from django import template

register = template.Library()


@register.filter
def has_screening(membership) -> bool:
    """The membership may open the screening dashboard and the incident board."""
    from kiln.screening.queries import sees_screening

    return sees_screening(membership)


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    from kiln.incidents.notifications import unread_count

    request = context.get("request")
    return unread_count(getattr(request, "user", None)) if request is not None else 0
