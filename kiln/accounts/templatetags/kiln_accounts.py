from django import template

from kiln.accounts.security import mfa_enrolment_pending

register = template.Library()


@register.filter
def has_perm(membership, perm: str) -> bool:
    """``{% if membership|has_perm:"manage_users" %}``: the acting membership grants this permission."""
    return membership is not None and membership.has_perm(perm)


@register.simple_tag(takes_context=True)
def mfa_pending(context) -> bool:
    request = context.get("request")
    return request is not None and mfa_enrolment_pending(request)
