"""Scoped reads of screening data (DESIGN.md rule 5): ``visible_findings(membership)`` and friends.

Platform-wide roles see everything; government users the findings of enterprises in their region
and below; enterprise staff their own enterprise's findings (the rectification page); third parties
and the grid company none.
"""

from __future__ import annotations

from django.db.models import QuerySet

from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.registry.models import Organisation
from kiln.registry.queries import visible_enterprises
from kiln.screening.models import AnomalyScore, Finding, RuleVersion, ScreeningRun


def sees_screening(membership) -> bool:
    if membership is None or not membership.active:
        return False
    if membership.role in PLATFORM_WIDE_ROLES:
        return True
    return membership.organisation.kind == Organisation.Kind.GOVERNMENT


def visible_findings(membership) -> QuerySet[Finding]:
    qs = Finding.objects.select_related(
        "enterprise", "enterprise__region", "enterprise__industry", "rule_version", "assignee"
    )
    if membership is None or not membership.active:
        return qs.none()
    kind = membership.organisation.kind
    if membership.role in PLATFORM_WIDE_ROLES or kind == Organisation.Kind.GOVERNMENT:
        return qs.filter(enterprise__in=visible_enterprises(membership).values("pk"))
    if kind == Organisation.Kind.ENTERPRISE and membership.has_perm(Perm.SUBMIT_DATA):
        return qs.filter(enterprise_id=membership.organisation_id)
    return qs.none()


def visible_runs(membership) -> QuerySet[ScreeningRun]:
    if not sees_screening(membership):
        return ScreeningRun.objects.none()
    if membership.role in PLATFORM_WIDE_ROLES:
        return ScreeningRun.objects.all()
    path = membership.organisation.region.path
    # A run over the whole platform (no region) or over a region that contains or lies in the user's.
    return (
        ScreeningRun.objects.filter(region__isnull=True)
        | ScreeningRun.objects.filter(region__path__startswith=path)
        | ScreeningRun.objects.filter(region__path__in=_ancestors(path))
    )


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def visible_scores(membership) -> QuerySet[AnomalyScore]:
    if not sees_screening(membership):
        return AnomalyScore.objects.none()
    return AnomalyScore.objects.filter(enterprise__in=visible_enterprises(membership).values("pk"))


def current_rules(*, enabled_only: bool = True) -> list[RuleVersion]:
    """The newest version of every rule (enabled ones only, unless asked)."""
    latest: dict[str, RuleVersion] = {}
    for rule in RuleVersion.objects.order_by("rule_id", "-version"):
        latest.setdefault(rule.rule_id, rule)
    rules = sorted(latest.values(), key=lambda r: r.rule_id)
    return [r for r in rules if r.enabled] if enabled_only else rules
