from django import template

register = template.Library()


@register.filter
def has_screening(membership) -> bool:
    """The membership may open the screening dashboard and the incident board."""
    from kiln.screening.queries import sees_screening

    return sees_screening(membership)

