"""Scoped reads of incidents (DESIGN.md rule 5).

Platform-wide roles see every incident; government users those in their region and below, and
those of the regions above theirs (a province's incident concerns its cities); no one else.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.incidents.models import Incident
from kiln.registry.models import Organisation


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def visible_incidents(membership) -> QuerySet[Incident]:
    qs = Incident.objects.select_related("region", "owner", "factor_set")
    if membership is None or not membership.active:
        return qs.none()
    if membership.role in PLATFORM_WIDE_ROLES:
        return qs
    if membership.organisation.kind != Organisation.Kind.GOVERNMENT:
        return qs.none()
    path = membership.organisation.region.path
    return qs.filter(Q(region__path__startswith=path) | Q(region__path__in=_ancestors(path)))


def can_act(membership, incident: Incident) -> bool:
    """Screening reviewers of the incident's region (or above it), platform-wide roles, and the owner."""
    if membership is None or not membership.active:
        return False
    if membership.user_id == incident.owner_id:
        return True
    if not membership.has_perm(Perm.SCREEN):
        return False
    if membership.role in PLATFORM_WIDE_ROLES:
        return True
    return incident.region.path.startswith(membership.organisation.region.path)


def sees_incidents(membership) -> bool:
    return (
        membership is not None
        and membership.active
        and (
            membership.role in PLATFORM_WIDE_ROLES
            or membership.organisation.kind == Organisation.Kind.GOVERNMENT
        )
    )
