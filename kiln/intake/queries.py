"""Scoped reads of the intake app: which batches, months and evidence a membership may see or act on."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kiln.accounts.models import Membership
from kiln.accounts.roles import Perm
from kiln.intake.models import EvidenceFile, ImportBatch
from kiln.registry.models import Organisation
from kiln.registry.queries import PLATFORM_WIDE, visible_enterprises


def visible_batches(membership: Membership | None) -> QuerySet[ImportBatch]:
    """Batches submitted under the membership's organisation; everything for platform-wide roles."""
    qs = ImportBatch.objects.select_related("submitted_by", "organisation")
    if membership is None or not membership.active:
        return qs.none()
    if membership.role in PLATFORM_WIDE:
        return qs
    return qs.filter(
        Q(organisation=membership.organisation) | Q(submitted_by=membership.user, organisation=None)
    )


def can_submit(membership: Membership | None) -> bool:
    return membership is not None and membership.has_perm(Perm.SUBMIT_DATA)


def depositable_enterprises(membership: Membership | None):
    """Enterprises whose evidence the membership may deposit: its own enterprise (or all, platform-wide)."""
    if not can_submit(membership):
        return visible_enterprises(None)
    return visible_enterprises(membership)


def can_deposit(membership: Membership | None, enterprise) -> bool:
    return can_submit(membership) and depositable_enterprises(membership).filter(pk=enterprise.pk).exists()


def can_freeze(membership: Membership | None) -> bool:
    """Reviewers of the enterprise's region (and platform admins) freeze and unfreeze months."""
    return membership is not None and membership.has_perm(Perm.REVIEW)


def is_government(membership: Membership | None) -> bool:
    return (
        membership is not None
        and membership.active
        and (membership.organisation.kind == Organisation.Kind.GOVERNMENT or membership.role in PLATFORM_WIDE)
    )


def visible_evidence(membership: Membership | None) -> QuerySet[EvidenceFile]:
    return EvidenceFile.objects.filter(enterprise__in=visible_enterprises(membership))
