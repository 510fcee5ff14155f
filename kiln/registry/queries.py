"""Scoped reads of the registry. Every list, detail, export and API goes through here."""

from __future__ import annotations

from django.db.models import QuerySet

from kiln.accounts.models import Membership
from kiln.accounts.roles import Role
from kiln.registry.models import Enterprise, Organisation, Region

# Roles that see the whole platform.
PLATFORM_WIDE = {Role.PLATFORM_ADMIN, Role.TECH_EXPERT}


def _region_prefix(membership: Membership) -> str:
    return membership.organisation.region.path


def visible_regions(membership: Membership | None) -> QuerySet[Region]:
    """Regions a membership may look at: a government or grid user its region and below, an
    enterprise its own region, a third party none (assignments scope it)."""
    if membership is None or not membership.active:
        return Region.objects.none()
    if membership.role in PLATFORM_WIDE:
        return Region.objects.all()
    kind = membership.organisation.kind
    if kind == Organisation.Kind.ENTERPRISE:
        return Region.objects.filter(pk=membership.organisation.region_id)
    if kind in (Organisation.Kind.GOVERNMENT, Organisation.Kind.GRID):
        return Region.objects.filter(path__startswith=_region_prefix(membership))
    # Third parties are scoped by their assignments, never by a region.
    return Region.objects.none()


def visible_enterprises(membership: Membership | None) -> QuerySet[Enterprise]:
    """Enterprises a membership may see.

    Enterprise staff see their own enterprise; government and grid users their region
    and below; platform admins and technical experts everything. A third party sees only
    the enterprises it is assigned to, while the assignment lasts: a verifier its bodies'
    verification assignments (``kiln.review``, until ``access_until``), a consultant its
    agency's running consultancy engagements. Still one query (the assignments are a subquery).
    """
    qs = Enterprise.objects.select_related("region", "industry")
    if membership is None or not membership.active:
        return qs.none()
    org = membership.organisation
    if membership.role in PLATFORM_WIDE:
        return qs
    if org.kind == Organisation.Kind.ENTERPRISE:
        return qs.filter(pk=org.pk)
    if org.kind in (Organisation.Kind.GOVERNMENT, Organisation.Kind.GRID):
        return qs.filter(region__path__startswith=_region_prefix(membership))
    if org.kind == Organisation.Kind.THIRD_PARTY:
        from kiln.review.queries import assigned_enterprise_ids

        return qs.filter(pk__in=assigned_enterprise_ids(membership))
    return qs.none()
