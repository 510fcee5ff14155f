"""Scoped reads of metered electricity (DESIGN.md rule 5)."""

from __future__ import annotations

from django.db.models import QuerySet

from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.grid.models import MeterBatch


def visible_batches(membership) -> QuerySet[MeterBatch]:
    """Platform-wide roles see every batch; a grid company's feeders see their organisation's."""
    if membership is None or not membership.active:
        return MeterBatch.objects.none()
    if membership.role in PLATFORM_WIDE_ROLES:
        return MeterBatch.objects.all()
    if membership.has_perm(Perm.FEED_GRID_DATA):
        return MeterBatch.objects.filter(organisation=membership.organisation)
    return MeterBatch.objects.none()
