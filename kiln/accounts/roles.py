"""Roles and the permissions they grant: declared here and nowhere else.

A user holds roles through memberships of organisations. What a role may *see* is
decided by the organisation's kind and region (see ``kiln.registry.queries``);
what it may *do* is the permission set below.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ENTERPRISE_REPORTER = "enterprise_reporter", _("enterprise reporter")
    ENTERPRISE_MANAGER = "enterprise_manager", _("enterprise manager")
    GOV_VIEWER = "gov_viewer", _("government viewer")
    GOV_REVIEWER = "gov_reviewer", _("government reviewer")
    GOV_AUDITOR = "gov_auditor", _("government auditor")
    VERIFIER = "verifier", _("verifier")
    CONSULTANT = "consultant", _("consultant")
    GRID_MAINTAINER = "grid_maintainer", _("grid data maintainer")
    TECH_EXPERT = "tech_expert", _("technical expert")
    PLATFORM_ADMIN = "platform_admin", _("platform admin")


class Perm(models.TextChoices):
    VIEW_REGISTRY = "view_registry", _("view the registry")
    MANAGE_REGISTRY = "manage_registry", _("manage the registry")
    SUBMIT_DATA = "submit_data", _("submit activity data")
    APPROVE_SUBMISSION = "approve_submission", _("sign off the enterprise's submissions")
    REVIEW = "review", _("review reports")
    VIEW_SUPERVISION = "view_supervision", _("view supervision (read-only)")
    VERIFY = "verify", _("verify reports")
    SCREEN = "screen", _("run screening")
    MANAGE_FACTORS = "manage_factors", _("manage emission factors")
    MANAGE_RULES = "manage_rules", _("manage screening rules")
    FEED_GRID_DATA = "feed_grid_data", _("feed metered electricity")
    MANAGE_USERS = "manage_users", _("manage users")
    VIEW_AUDIT = "view_audit", _("view the audit log")
    PROVISION_USERS = "provision_users", _("provision users over SCIM")
    CALCULATE = "calculate", _("run emission calculations")
    OPERATE_PLATFORM = "operate_platform", _("operate the platform (system health, backups)")


P = Perm
PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ENTERPRISE_REPORTER: frozenset({P.VIEW_REGISTRY, P.SUBMIT_DATA}),
    Role.ENTERPRISE_MANAGER: frozenset(
        {P.VIEW_REGISTRY, P.SUBMIT_DATA, P.APPROVE_SUBMISSION, P.MANAGE_USERS}
    ),
    # VIEW_SUPERVISION: follow the review of the region's reports read-only; REVIEW implies it.
    Role.GOV_VIEWER: frozenset({P.VIEW_REGISTRY, P.VIEW_SUPERVISION}),
    Role.GOV_REVIEWER: frozenset({P.VIEW_REGISTRY, P.REVIEW, P.VIEW_SUPERVISION, P.SCREEN, P.CALCULATE}),
    Role.GOV_AUDITOR: frozenset({P.VIEW_REGISTRY, P.VIEW_AUDIT, P.VIEW_SUPERVISION}),
    Role.VERIFIER: frozenset({P.VIEW_REGISTRY, P.VERIFY}),
    Role.CONSULTANT: frozenset({P.VIEW_REGISTRY}),
    Role.GRID_MAINTAINER: frozenset({P.VIEW_REGISTRY, P.FEED_GRID_DATA}),
    Role.TECH_EXPERT: frozenset({P.VIEW_REGISTRY, P.MANAGE_FACTORS, P.MANAGE_RULES, P.SCREEN, P.CALCULATE}),
    Role.PLATFORM_ADMIN: frozenset(set(Perm)),
}

# Which organisation kinds a role may be held in.
ROLE_ORG_KINDS: dict[str, frozenset[str]] = {
    Role.ENTERPRISE_REPORTER: frozenset({"enterprise"}),
    Role.ENTERPRISE_MANAGER: frozenset({"enterprise"}),
    Role.GOV_VIEWER: frozenset({"government"}),
    Role.GOV_REVIEWER: frozenset({"government"}),
    Role.GOV_AUDITOR: frozenset({"government"}),
    Role.VERIFIER: frozenset({"third_party"}),
    Role.CONSULTANT: frozenset({"third_party"}),
    Role.GRID_MAINTAINER: frozenset({"grid"}),
    Role.TECH_EXPERT: frozenset({"operator", "government"}),
    Role.PLATFORM_ADMIN: frozenset({"operator"}),
}


# Roles whose holders must use a second factor (TOTP or a security key) to sign in.
MFA_REQUIRED_ROLES: frozenset[str] = frozenset(
    {Role.GOV_VIEWER, Role.GOV_REVIEWER, Role.GOV_AUDITOR, Role.VERIFIER, Role.PLATFORM_ADMIN}
)

# Roles that see and manage the whole platform rather than their own organisation and region.
PLATFORM_WIDE_ROLES: frozenset[str] = frozenset({Role.PLATFORM_ADMIN, Role.TECH_EXPERT})


def permissions_of(role: str) -> frozenset[str]:
    return PERMISSIONS.get(role, frozenset())


def requires_mfa(role: str) -> bool:
    return role in MFA_REQUIRED_ROLES


def assignable_roles(manager_role: str, org_kind: str) -> list[str]:
    """Roles a user manager may grant in an organisation of ``org_kind``.

    Platform admins grant any role the organisation kind allows; other managers
    (enterprise managers) only the non-platform roles of their own kind of organisation.
    """
    allowed: list[str] = [str(r) for r in Role if org_kind in ROLE_ORG_KINDS.get(r, frozenset())]
    if manager_role == Role.PLATFORM_ADMIN:
        return allowed
    return [r for r in allowed if r not in PLATFORM_WIDE_ROLES]
