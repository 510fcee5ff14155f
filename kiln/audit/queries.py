"""Scoped reads of the audit log: who may see which events."""

from __future__ import annotations

from django.db.models import QuerySet

from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.audit.models import AuditEvent


def can_view_audit(membership) -> bool:
    return membership is not None and membership.active and membership.has_perm(Perm.VIEW_AUDIT)


def visible_events(membership) -> QuerySet[AuditEvent]:
    """Platform admins see every event; a government auditor the events of its region and below."""
    if not can_view_audit(membership):
        return AuditEvent.objects.none()
    if membership.role in PLATFORM_WIDE_ROLES:
        return AuditEvent.objects.all()
    path = membership.organisation.region.path
    return AuditEvent.objects.filter(region_path__startswith=path)
