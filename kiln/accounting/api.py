"""Accounting API: calculation runs, their aggregates and per-row provenance, calculate and promote."""

from __future__ import annotations

import polars as pl
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from kiln.accounting import queries, services
from kiln.accounting.models import Aggregate, CalculationRun
from kiln.accounts.current import current_membership, membership_with
from kiln.accounts.roles import Perm
from kiln.engine.aggregate import VALUE_COLUMNS
from kiln.factors.models import FactorSet
from kiln.registry.queries import visible_enterprises, visible_regions

router = Router(tags=["accounting"])


class RunOut(Schema):
    id: int
    kind: str
    official: bool
    region_code: str
    year: int
    factor_sets: list[str]
    grid_series: str
    engine_version: str
    inputs_sha256: str
    input_rows: int
    rows_sha256: str
    total_co2_t: float
    total_tce: float
    created: str
    promotion_reason: str


class CalculateIn(Schema):
    region_code: str
    year: int
    factor_set: str  # code (latest version) or label "CODE@vN"
    grid_series: str | None = None
    what_if: bool = False


class PromoteIn(Schema):
    reason: str


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[dict] = []


def _run(run: CalculationRun) -> dict:
    return {
        "id": run.pk,
        "kind": run.kind,
        "official": run.official,
        "region_code": run.region.code,
        "year": run.year,
        "factor_sets": [s.label for s in run.factor_sets.all()],
        "grid_series": run.grid_series,
        "engine_version": run.engine_version,
        "inputs_sha256": run.inputs_sha256,
        "input_rows": run.input_rows,
        "rows_sha256": run.rows_sha256,
        "total_co2_t": run.total_co2_t,
        "total_tce": run.total_tce,
        "created": run.created.isoformat(),
        "promotion_reason": run.promotion_reason,
    }


@router.get("/runs", response=list[RunOut])
def list_runs(request, year: int | None = None, official: bool | None = None):
    runs = queries.visible_runs(current_membership(request)).prefetch_related("factor_sets")
    if year is not None:
        runs = runs.filter(year=year)
    if official is not None:
        runs = runs.filter(official=official)
    return [_run(r) for r in runs[:500]]


@router.get("/runs/{run_id}", response=RunOut)
def get_run(request, run_id: int):
    return _run(get_object_or_404(queries.visible_runs(current_membership(request)), pk=run_id))


@router.get("/runs/{run_id}/aggregates", response=list[dict])
def aggregates(request, run_id: int, dimension: str = "county", period: str | None = None):
    run = get_object_or_404(queries.visible_runs(current_membership(request)), pk=run_id)
    if dimension not in Aggregate.Dimension.values:
        raise HttpError(422, "dimension must be one of " + ", ".join(Aggregate.Dimension.values))
    return list(
        Aggregate.objects.filter(run=run, dimension=dimension, period=period or str(run.year))
        .order_by("key")
        .values("key", "period", "n_enterprises", *VALUE_COLUMNS)
    )


@router.get("/runs/{run_id}/enterprises/{credit_code}/rows", response=list[dict])
def enterprise_rows(request, run_id: int, credit_code: str, period: str | None = None):
    """Per-row results of one enterprise: the provenance of each of its figures."""
    enterprise = get_object_or_404(visible_enterprises(current_membership(request)), credit_code=credit_code)
    run = get_object_or_404(CalculationRun, pk=run_id)
    if not queries.run_covers(run, enterprise):
        raise HttpError(404, "Not Found")
    rows = services.rows_of(run).filter(pl.col("credit_code").cast(pl.String) == credit_code)
    if period:
        rows = rows.filter(pl.col("period").cast(pl.String) == period)
    frame = rows.collect()
    return frame.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String)).to_dicts()


def _factor_set(text: str) -> FactorSet:
    code, _, version = text.partition("@v")
    sets = FactorSet.objects.filter(code=code)
    found = (
        sets.filter(version=int(version)).first() if version.isdigit() else sets.order_by("-version").first()
    )
    if found is None:
        raise HttpError(404, "unknown factor set")
    return found


@router.post("/runs", response={201: RunOut, 422: ErrorOut})
def calculate(request, body: CalculateIn):
    membership = membership_with(request, Perm.CALCULATE)
    region = get_object_or_404(visible_regions(membership), code=body.region_code)
    kind = CalculationRun.Kind.WHAT_IF if body.what_if else CalculationRun.Kind.OFFICIAL
    try:
        run = services.calculate(
            actor=request.user,
            region=region,
            year=body.year,
            factor_set=_factor_set(body.factor_set),
            grid_series=body.grid_series,
            kind=kind,
        )
    except services.RunError as exc:
        return Status(422, {"code": exc.code, "message": str(exc.message), "errors": exc.errors})
    return Status(201, _run(run))


@router.post("/runs/{run_id}/promote", response={200: RunOut, 422: ErrorOut})
def promote(request, run_id: int, body: PromoteIn):
    membership = membership_with(request, Perm.CALCULATE)
    run = get_object_or_404(queries.visible_runs(membership), pk=run_id)
    try:
        services.promote(run, actor=request.user, reason=body.reason)
    except services.RunError as exc:
        return Status(422, {"code": exc.code, "message": str(exc.message)})
    run.refresh_from_db()
    return Status(200, _run(run))
