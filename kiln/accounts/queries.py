"""Scoped reads of users: whom a membership may manage (DESIGN.md rule 5).

Platform admins manage every user; any other role with ``manage_users`` (enterprise
managers) manages the users of its own organisation only.
"""

from __future__ import annotations

from django.db.models import QuerySet
from typing_extensions import TypeIs

from kiln.accounts.models import ApiToken, Membership, User
from kiln.accounts.roles import Perm, Role


def can_manage_users(membership: Membership | None) -> TypeIs[Membership]:
    return membership is not None and membership.active and membership.has_perm(Perm.MANAGE_USERS)


def is_platform_manager(membership: Membership | None) -> bool:
    return can_manage_users(membership) and membership.role == Role.PLATFORM_ADMIN


def manageable_organisations(membership: Membership | None):
    from kiln.registry.models import Organisation

    if not can_manage_users(membership):
        return Organisation.objects.none()
    if is_platform_manager(membership):
        return Organisation.objects.filter(active=True)
    return Organisation.objects.filter(pk=membership.organisation_id)


def manageable_users(membership: Membership | None, *, include_deleted: bool = False) -> QuerySet[User]:
    if not can_manage_users(membership):
        return User.objects.none()
    qs = User.objects.all()
    if not is_platform_manager(membership):
        qs = qs.filter(memberships__organisation_id=membership.organisation_id).distinct()
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    return qs.order_by("username")


def manageable_memberships(membership: Membership | None, user: User) -> QuerySet[Membership]:
    """The target user's memberships this manager may withdraw."""
    qs = Membership.objects.filter(user=user).select_related("organisation", "organisation__region")
    if not can_manage_users(membership):
        return qs.none()
    if is_platform_manager(membership):
        return qs
    return qs.filter(organisation_id=membership.organisation_id)


def fully_managed(membership: Membership | None, user: User) -> bool:
    """Whether the manager may change the account itself (activate, disable, delete, unlock).

    True for platform admins; for an enterprise manager only when every role the user
    holds is in the manager's own organisation.
    """
    if not can_manage_users(membership):
        return False
    if is_platform_manager(membership):
        return True
    return (
        not Membership.objects.filter(user=user).exclude(organisation_id=membership.organisation_id).exists()
    )


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("membership__organisation").order_by("-created")
