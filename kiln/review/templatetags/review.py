from django import template

from kiln.accounts.roles import Perm
from kiln.review import queries

register = template.Library()


@register.filter
def has_supervision(membership) -> bool:
    """The membership has a part in supervision (submissions, review or verification)."""
    if membership is None:
        return False
    kind = membership.organisation.kind
    if kind == "enterprise":
        return membership.has_perm(Perm.SUBMIT_DATA)
    if kind == "third_party":
        return membership.has_perm(Perm.VERIFY)
    return queries.can_view_supervision(membership)


@register.filter
def follows_supervision(membership) -> bool:
    """The membership sees its region's review queue, sampling and deadlines (reviewers and read-only viewers)."""
    return queries.can_view_supervision(membership)


@register.filter
def reviews(membership) -> bool:
    """The membership acts as a reviewer (the read-only viewers of supervision do not)."""
    return queries.is_reviewer(membership)


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def msg(finding) -> str:
    """A self-check finding's message in the current language."""
    from django.utils.translation import get_language

    if (get_language() or "").startswith("en"):
        return finding.get("message_en") or finding.get("message", "")
    return finding.get("message", "")
