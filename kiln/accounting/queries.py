"""Scoped reads of calculation runs and their results."""

from __future__ import annotations

from django.db.models import QuerySet

from kiln.accounting.models import Aggregate, CalculationRun
from kiln.accounts.models import Membership
from kiln.registry.models import Organisation
from kiln.registry.queries import visible_regions


def visible_runs(membership: Membership | None) -> QuerySet[CalculationRun]:
    """Runs over a region the membership may see (enterprise staff see none as a whole)."""
    runs = CalculationRun.objects.select_related("region", "created_by")
    if membership is None or membership.organisation.kind == Organisation.Kind.ENTERPRISE:
        return runs.none()
    return runs.filter(region__in=visible_regions(membership))


def run_covers(run: CalculationRun, enterprise) -> bool:
    return enterprise.region.path.startswith(run.region.path)


def official_run(region, year: int) -> CalculationRun | None:
    """The official run whose region contains ``region`` for ``year`` (the nearest such region)."""
    candidates = CalculationRun.objects.filter(official=True, year=year).select_related("region")
    best = None
    for run in candidates:
        if region.path.startswith(run.region.path) and (
            best is None or len(run.region.path) > len(best.region.path)
        ):
            best = run
    return best


def yearly(run: CalculationRun, dimension: str) -> QuerySet[Aggregate]:
    return Aggregate.objects.filter(run=run, dimension=dimension, period=str(run.year))


def monthly(run: CalculationRun, dimension: str, key: str) -> QuerySet[Aggregate]:
    return Aggregate.objects.filter(run=run, dimension=dimension, key=key, period__contains="-").order_by(
        "period"
    )
