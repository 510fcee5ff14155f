"""The membership a request acts under: the one the user switched to, else their first."""

from __future__ import annotations

from kiln.accounts.models import Membership

SESSION_KEY = "kiln_membership"


def memberships(user) -> list[Membership]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.filter(user=user, active=True)
        .select_related("organisation", "organisation__region")
        .order_by("id")
    )


def current_membership(request) -> Membership | None:
    """The membership chosen in this session, falling back to the user's first active one."""
    if hasattr(request, "_kiln_membership"):
        return request._kiln_membership
    held = memberships(request.user)
    chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    current = next((m for m in held if m.id == chosen), held[0] if held else None)
    request._kiln_membership = current
    return current


def membership_with(request, perm: str) -> Membership:
    """The acting membership if it holds ``perm``; otherwise 404, so outsiders learn nothing."""
    from django.http import Http404

    membership = current_membership(request)
    if membership is None or not membership.has_perm(perm):
        raise Http404
    return membership
