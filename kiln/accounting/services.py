"""Calculation runs: read the reported data, compute with the engine, keep everything that made the numbers."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiln.accounting.models import Aggregate, CalculationRun
from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.engine import ENGINE_VERSION
from kiln.engine.aggregate import VALUE_COLUMNS, aggregate
from kiln.engine.emissions import compute
from kiln.engine.errors import EngineError
from kiln.factors import services as factor_services
from kiln.factors.models import FactorSet
from kiln.intake.models import ActivityRecord
from kiln.registry.models import Enterprise, Region

ACTIVITY_COLUMNS = ["credit_code", "period", "item", "quantity", "unit", "source", "facility", "note"]
# Which aggregate frame fills which dimension, and its key column.
DIMENSIONS = {
    "enterprise_month": ("enterprise", "credit_code"),
    "enterprise_year": ("enterprise", "credit_code"),
    "industry_month": ("industry", "industry_code"),
    "industry_year": ("industry", "industry_code"),
    "county_month": ("county", "region_code"),
    "county_year": ("county", "region_code"),
    "city_month": ("city", "city_code"),
    "city_year": ("city", "city_code"),
}


class RunError(Exception):
    def __init__(self, code: str, message, errors: list[dict] | None = None):
        super().__init__(str(message))
        self.code, self.message, self.errors = code, message, errors or []


def activity_frame(region: Region, year: int) -> pl.DataFrame:
    """Current reported rows of every enterprise in ``region`` (and below) for ``year``."""
    rows = (
        ActivityRecord.objects.filter(
            current=True, period__startswith=f"{year}-", enterprise__region__path__startswith=region.path
        )
        .order_by("enterprise__credit_code", "period", "item", "facility")
        .values_list(
            "enterprise__credit_code", "period", "item", "quantity", "unit", "source", "facility", "note"
        )
    )
    schema = {c: pl.String for c in ACTIVITY_COLUMNS} | {"quantity": pl.Float64}
    return pl.DataFrame(list(rows.iterator(chunk_size=20_000)), schema=schema, orient="row")


def mapping_frame(region: Region) -> pl.DataFrame:
    """Each enterprise's county, city and industry, for the aggregates."""
    rows = Enterprise.objects.filter(region__path__startswith=region.path).values_list(
        "credit_code", "region__code", "region__path", "industry__code"
    )
    frame = pl.DataFrame(
        list(rows), schema=["credit_code", "region_code", "path", "industry_code"], orient="row"
    )
    # The city is the third element of the materialised path: nation/province/city/county.
    return frame.with_columns(
        pl.col("path").str.split("/").list.get(2, null_on_oob=True).alias("city_code")
    ).drop("path")


def inputs_sha256(activity: pl.DataFrame) -> str:
    return hashlib.sha256(activity.sort(ACTIVITY_COLUMNS[:3] + ["facility"]).write_csv().encode()).hexdigest()


@transaction.atomic
def calculate(
    *,
    actor,
    region: Region,
    year: int,
    factor_set: FactorSet,
    grid_series: str | None = None,
    kind: str = CalculationRun.Kind.OFFICIAL,
) -> CalculationRun:
    """Compute a run for ``region`` and ``year``; an official run replaces the previous official one.

    Nothing is overwritten: the previous official run stays, only its ``official`` flag moves.
    Raises ``RunError`` (with the engine's row-level errors) when the data cannot be computed.
    """
    started = time.perf_counter()
    activity = activity_frame(region, year)
    if activity.is_empty():
        raise RunError("ACC-NO-DATA", _("There is no reported data for this region and year."))
    series = grid_series or factor_set.default_grid_series
    try:
        results = compute(activity, factor_services.frame_of(factor_set), grid_series=series)
        aggregates = aggregate(results, mapping_frame(region))
    except EngineError as exc:
        raise RunError(
            "ACC-ENGINE-ERRORS",
            _("The data has errors; fix them and calculate again."),
            exc.errors.head(1000).to_dicts(),
        ) from exc
    factor_services.lock(factor_set)
    run = CalculationRun.objects.create(
        kind=kind,
        status=CalculationRun.Status.DONE,
        region=region,
        year=year,
        grid_series=series,
        engine_version=ENGINE_VERSION,
        inputs_sha256=inputs_sha256(activity),
        input_rows=activity.height,
        total_co2_t=float(aggregates["enterprise_year"].get_column("co2_total_t").sum()),
        total_tce=float(aggregates["enterprise_year"].get_column("tce_total").sum()),
        created_by=actor,
    )
    run.factor_sets.add(factor_set)
    run.rows_path, run.rows_sha256 = _store_rows(run, results)
    _store_aggregates(run, aggregates)
    run.elapsed_ms = int((time.perf_counter() - started) * 1000)
    run.save(update_fields=["rows_path", "rows_sha256", "elapsed_ms"])
    if kind == CalculationRun.Kind.OFFICIAL:
        _make_official(run)
    record(EventType.DATA_CREATED, actor=actor, target=run, after=_summary(run))
    return run


@transaction.atomic
def promote(run: CalculationRun, *, actor, reason: str) -> CalculationRun:
    """Make a what-if run the official result for its region and year; needs a stated reason."""
    if not reason.strip():
        raise RunError("ACC-REASON-REQUIRED", _("Say why this recomputation becomes the official result."))
    run = CalculationRun.objects.select_for_update().get(pk=run.pk)
    if run.official:
        raise RunError("ACC-ALREADY-OFFICIAL", _("This run is already the official result."))
    before = CalculationRun.objects.filter(region=run.region, year=run.year, official=True).first()
    _make_official(run)
    run.promoted_at, run.promoted_by, run.promotion_reason = timezone.now(), actor, reason.strip()
    run.save(update_fields=["promoted_at", "promoted_by", "promotion_reason"])
    record(
        EventType.DATA_UPDATED,
        actor=actor,
        target=run,
        before={"official_run": before.pk if before else None},
        after={"official_run": run.pk, "reason": run.promotion_reason},
    )
    return run


def _make_official(run: CalculationRun) -> None:
    CalculationRun.objects.filter(region=run.region, year=run.year, official=True).exclude(pk=run.pk).update(
        official=False
    )
    CalculationRun.objects.filter(pk=run.pk).update(official=True)
    run.official = True


def runs_dir() -> Path:
    path = Path(settings.VAR_DIR) / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store_rows(run: CalculationRun, results: pl.DataFrame) -> tuple[str, str]:
    path = runs_dir() / f"run-{run.pk}.parquet"
    results.write_parquet(path, compression="zstd", statistics=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return str(path.relative_to(settings.VAR_DIR)), digest


def rows_of(run: CalculationRun) -> pl.LazyFrame:
    """The per-row results of a run (lazily: filter before collecting)."""
    return pl.scan_parquet(Path(settings.VAR_DIR) / run.rows_path)


def _store_aggregates(run: CalculationRun, aggregates: dict[str, pl.DataFrame]) -> None:
    objects = []
    for name, frame in aggregates.items():
        dimension, key = DIMENSIONS[name]
        period = pl.col("period") if name.endswith("_month") else pl.col("year").cast(pl.String)
        count = pl.col("n_enterprises") if "n_enterprises" in frame.columns else pl.lit(1)
        tidy = frame.select(
            pl.col(key).cast(pl.String).alias("key"),
            period.alias("period"),
            count.alias("n_enterprises"),
            *VALUE_COLUMNS,
        )
        objects.extend(Aggregate(run=run, dimension=dimension, **row) for row in tidy.iter_rows(named=True))
    Aggregate.objects.bulk_create(objects, batch_size=5000)


def _summary(run: CalculationRun) -> dict:
    return {
        "run": run.pk,
        "region": run.region.code,
        "year": run.year,
        "kind": run.kind,
        "inputs_sha256": run.inputs_sha256,
        "total_co2_t": run.total_co2_t,
    }


def compare(base: CalculationRun, other: CalculationRun, dimension: str) -> pl.DataFrame:
    """Yearly totals of two runs side by side per key of ``dimension``, with the difference."""

    def yearly(run):
        rows = Aggregate.objects.filter(run=run, dimension=dimension, period=str(run.year)).values_list(
            "key", "co2_total_t", "tce_total"
        )
        return pl.DataFrame(list(rows), schema=["key", "co2_t", "tce"], orient="row")

    joined = yearly(base).join(yearly(other), on="key", how="full", coalesce=True, suffix="_other")
    return (
        joined.with_columns(pl.col("co2_t").fill_null(0.0), pl.col("co2_t_other").fill_null(0.0))
        .with_columns(
            (pl.col("co2_t_other") - pl.col("co2_t")).alias("difference_t"),
            pl.when(pl.col("co2_t") != 0)
            .then((pl.col("co2_t_other") - pl.col("co2_t")) / pl.col("co2_t"))
            .otherwise(None)
            .alias("relative"),
        )
        .sort("difference_t", descending=True)
    )
