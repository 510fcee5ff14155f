from django import template

from kiln.accounts.roles import Perm

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
    return membership.has_perm(Perm.REVIEW)


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
