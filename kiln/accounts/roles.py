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
    VERIFY = "verify", _("verify reports")
    SCREEN = "screen", _("run screening")
    MANAGE_FACTORS = "manage_factors", _("manage emission factors")
    MANAGE_RULES = "manage_rules", _("manage screening rules")
    FEED_GRID_DATA = "feed_grid_data", _("feed metered electricity")
    MANAGE_USERS = "manage_users", _("manage users")
    VIEW_AUDIT = "view_audit", _("view the audit log")


P = Perm
PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ENTERPRISE_REPORTER: frozenset({P.VIEW_REGISTRY, P.SUBMIT_DATA}),
    Role.ENTERPRISE_MANAGER: frozenset(
        {P.VIEW_REGISTRY, P.SUBMIT_DATA, P.APPROVE_SUBMISSION, P.MANAGE_USERS}
    ),
    Role.GOV_VIEWER: frozenset({P.VIEW_REGISTRY}),
    Role.GOV_REVIEWER: frozenset({P.VIEW_REGISTRY, P.REVIEW, P.SCREEN}),
    Role.VERIFIER: frozenset({P.VIEW_REGISTRY, P.VERIFY}),
    Role.CONSULTANT: frozenset({P.VIEW_REGISTRY}),
    Role.GRID_MAINTAINER: frozenset({P.VIEW_REGISTRY, P.FEED_GRID_DATA}),
    Role.TECH_EXPERT: frozenset({P.VIEW_REGISTRY, P.MANAGE_FACTORS, P.MANAGE_RULES, P.SCREEN}),
    Role.PLATFORM_ADMIN: frozenset(set(Perm)),
}

# Which organisation kinds a role may be held in.
ROLE_ORG_KINDS: dict[str, frozenset[str]] = {
    Role.ENTERPRISE_REPORTER: frozenset({"enterprise"}),
    Role.ENTERPRISE_MANAGER: frozenset({"enterprise"}),
    Role.GOV_VIEWER: frozenset({"government"}),
    Role.GOV_REVIEWER: frozenset({"government"}),
    Role.VERIFIER: frozenset({"third_party"}),
    Role.CONSULTANT: frozenset({"third_party"}),
    Role.GRID_MAINTAINER: frozenset({"grid"}),
    Role.TECH_EXPERT: frozenset({"operator", "government"}),
    Role.PLATFORM_ADMIN: frozenset({"operator"}),
}


def permissions_of(role: str) -> frozenset[str]:
    return PERMISSIONS.get(role, frozenset())
