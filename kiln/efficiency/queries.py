"""Scoped reads of the carbon-efficiency code. Every page, export, API call and CLI listing goes through here.

Whose results a membership sees is the registry's rule (``visible_enterprises``). Which grading of a
year counts: the current grading of the broadest region (a province-wide grading compares an
enterprise with its whole provincial industry); a current grading of a region outside every broader
one (a city graded on its own) counts for its enterprises.
"""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, QuerySet

from kiln.accounts.models import Membership
from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.efficiency.models import EconomicRecord, EfficiencyResult, EfficiencyRun
from kiln.registry.models import Enterprise, Organisation
from kiln.registry.queries import visible_enterprises

IMPORT_PERMS = (Perm.SUBMIT_DATA, Perm.MANAGE_REGISTRY, Perm.CALCULATE)


def can_import(membership: Membership | None) -> bool:
    """Enterprises report their own figures; statistics and platform staff report for their region."""
    return bool(membership and any(membership.has_perm(p) for p in IMPORT_PERMS))


def can_compute(membership: Membership | None) -> bool:
    return bool(membership and membership.has_perm(Perm.CALCULATE))


def is_overseer(membership: Membership | None) -> bool:
    """Government, grid and platform staff see the regional views; enterprises only their own card."""
    if membership is None or not membership.active:
        return False
    if membership.role in PLATFORM_WIDE_ROLES:
        return True
    return membership.organisation.kind in (Organisation.Kind.GOVERNMENT, Organisation.Kind.GRID)


def counting_runs(year: int) -> list[EfficiencyRun]:
    """The current gradings of ``year`` that count: broadest first, none inside another."""
    runs = sorted(
        EfficiencyRun.objects.filter(year=year, current=True).select_related(
            "region", "config", "calculation"
        ),
        key=lambda r: (len(r.region.path), r.region.path),
    )
    chosen: list[EfficiencyRun] = []
    for run in runs:
        if not any(run.region.path.startswith(c.region.path) for c in chosen):
            chosen.append(run)
    return chosen


def graded_years() -> list[int]:
    return sorted(
        set(EfficiencyRun.objects.filter(current=True).values_list("year", flat=True)), reverse=True
    )


def results(
    membership: Membership | None, year: int, *, period_kind: str = EfficiencyResult.PeriodKind.YEAR
) -> QuerySet[EfficiencyResult]:
    """The counting results of ``year`` for the enterprises ``membership`` may see."""
    runs = counting_runs(year)
    return (
        EfficiencyResult.objects.filter(
            run__in=runs, period_kind=period_kind, enterprise__in=visible_enterprises(membership)
        )
        .select_related("enterprise", "enterprise__region", "enterprise__industry", "run", "run__config")
        .order_by("period", "enterprise__credit_code")
    )


def in_region(qs: QuerySet[EfficiencyResult], region_code: str | None) -> QuerySet[EfficiencyResult]:
    if not region_code:
        return qs
    return qs.filter(enterprise__region__path__contains=f"{region_code}/")


def history(enterprise: Enterprise) -> list[EfficiencyResult]:
    """The enterprise's yearly results, newest first, one per year (the counting grading's)."""
    years = sorted(
        set(
            EfficiencyResult.objects.filter(enterprise=enterprise, run__current=True).values_list(
                "run__year", flat=True
            )
        ),
        reverse=True,
    )
    out = []
    for year in years:
        result = (
            EfficiencyResult.objects.filter(
                enterprise=enterprise,
                run__in=counting_runs(year),
                period_kind=EfficiencyResult.PeriodKind.YEAR,
            )
            .select_related(
                "run", "run__config", "run__calculation", "economic_record", "economic_record__batch"
            )
            .first()
        )
        if result is not None:
            out.append(result)
    return out


def rolling(enterprise: Enterprise, year: int) -> list[EfficiencyResult]:
    return list(
        EfficiencyResult.objects.filter(
            enterprise=enterprise,
            run__in=counting_runs(year),
            period_kind=EfficiencyResult.PeriodKind.ROLLING,
        ).order_by("period")
    )


def economic_records(membership: Membership | None) -> QuerySet[EconomicRecord]:
    return EconomicRecord.objects.filter(current=True, enterprise__in=visible_enterprises(membership))


# --- the government views ---------------------------------------------------------------------------


def distribution(qs: QuerySet[EfficiencyResult], by: str) -> list[dict]:
    """Counts by grade (1–5, none) per county (``by="region"``) or industry group (``by="industry"``)."""
    key = {"region": "enterprise__region__code", "industry": "industry_key"}[by]
    label = {"region": "enterprise__region__name", "industry": "industry_key"}[by]
    rows = qs.order_by().values(key, label, "grade").annotate(n=Count("id"))
    table: dict[str, dict] = {}
    for row in rows:
        entry = table.setdefault(
            row[key], {"key": row[key], "label": row[label], "grades": Counter(), "total": 0}
        )
        entry["grades"][row["grade"] or 0] += row["n"]
        entry["total"] += row["n"]
    return [
        {**e, "counts": [e["grades"].get(g, 0) for g in (1, 2, 3, 4, 5, 0)]}
        for e in sorted(table.values(), key=lambda e: e["key"])
    ]


def level_counts(qs: QuerySet[EfficiencyResult]) -> dict[str, int]:
    counts = dict(qs.order_by().values_list("level").annotate(n=Count("id")))
    return {level: counts.get(level, 0) for level in ("low", "medium", "high", "")}


def reason_counts(qs: QuerySet[EfficiencyResult]) -> list[tuple[str, int]]:
    return list(
        qs.exclude(reason="").order_by().values_list("reason").annotate(n=Count("id")).order_by("reason")
    )


def movers(membership: Membership | None, year: int) -> list[dict]:
    """Enterprises whose grade changed from ``year - 1`` to ``year`` (both graded), biggest moves first."""
    before = {r.enterprise_id: r for r in results(membership, year - 1).exclude(grade=None)}
    moved = []
    for now in results(membership, year).exclude(grade=None):
        then = before.get(now.enterprise_id)
        if then is not None and then.grade is not None and now.grade is not None and then.grade != now.grade:
            moved.append({"result": now, "before": then, "change": now.grade - then.grade})
    return sorted(moved, key=lambda m: (-abs(m["change"]), m["result"].enterprise.credit_code))


def diagnosis(qs: QuerySet[EfficiencyResult]) -> QuerySet[EfficiencyResult]:
    """Grade 4 and 5: candidates for the free energy-saving diagnosis (节能诊断), worst first."""
    return qs.filter(grade__gte=4).order_by("-grade", "-k_value", "enterprise__credit_code")
