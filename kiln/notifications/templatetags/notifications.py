from django import template

from kiln.notifications.services import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """The signed-in user's unread notifications (the count on the bell in the top bar)."""
    request = context.get("request")
    return unread_count(getattr(request, "user", None)) if request is not None else 0
