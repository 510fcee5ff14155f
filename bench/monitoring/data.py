"""Official results for the national preset, straight from the engine (no intake on the way).

For each year: the preset's activity rows, cleaned as the intake would clean them (an exact
duplicate row is stored once; rows the engine refuses — the planted implausible values — are
left out and counted), computed with ``kiln.engine.emissions.compute``, aggregated with
``kiln.engine.aggregate.aggregate`` and stored as an official ``CalculationRun`` with its
per-row Parquet file and its ``Aggregate`` rows (PostgreSQL ``COPY``; ``bulk_create`` elsewhere).
"""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import connection, transaction

from kiln.accounting.models import Aggregate, CalculationRun
from kiln.accounting.services import DIMENSIONS, mapping_frame
from kiln.engine import ENGINE_VERSION
from kiln.engine.aggregate import VALUE_COLUMNS, aggregate
from kiln.engine.emissions import compute
from kiln.engine.errors import EngineError
from kiln.factors import services as factor_services
from kiln.factors.models import FactorSet
from kiln.monitoring import digest
from kiln.registry.models import Region

FACTOR_SET = "CN-DEFAULT-2024"
COPY_COLUMNS = ["run_id", "dimension", "key", "period", "n_enterprises", *VALUE_COLUMNS]


def clean(activity: pl.DataFrame, problems: pl.DataFrame | None = None) -> tuple[pl.DataFrame, int]:
    """What review would have done before the results became official.

    An exact duplicate is stored once (the intake's unique key would); the values planted as
    problems (``injected_problems.csv``: x1000 unit slips, spikes, under-reporting, implausible
    parameters) are left out, as screening would have sent them back.
    """
    before = activity.height
    activity = activity.unique(maintain_order=True)
    if problems is not None and problems.height:
        keys = ["credit_code", "period", "item", "facility"]
        planted = problems.filter(pl.col("kind") != "duplicate").select(
            pl.col(keys).cast(pl.String)
        ).with_columns(pl.col("facility").fill_null(""))
        activity = (
            activity.with_columns(pl.col("facility").fill_null("").alias("_facility"))
            .join(planted.rename({"facility": "_facility"}), on=["credit_code", "period", "item", "_facility"],
                  how="anti")
            .drop("_facility")
        )
    return activity, before - activity.height


def compute_clean(activity: pl.DataFrame, factor_set: pl.DataFrame, grid_series: str, not_after: str):
    """Compute; rows the engine refuses are left out (and counted), then computed again."""
    dropped = 0
    for _attempt in range(3):
        try:
            return compute(activity, factor_set, grid_series=grid_series, not_after=not_after), dropped
        except EngineError as exc:
            bad = exc.errors.get_column("row").drop_nulls().unique()
            keys = exc.errors.filter(pl.col("row").is_null()).select("credit_code", "period", "item").unique()
            keep = ~pl.int_range(pl.len()).is_in(bad.implode())
            before = activity.height
            activity = activity.filter(keep)
            if keys.height:  # a problem of a whole enterprise-month item (e.g. a parameter given twice)
                activity = activity.join(
                    keys.with_columns(pl.col("credit_code", "period", "item").cast(pl.String)),
                    on=["credit_code", "period", "item"], how="anti",
                )
            dropped += before - activity.height
            if before == activity.height:
                raise
    raise RuntimeError("the engine kept refusing the cleaned data")


def _copy_aggregates(frame: pl.DataFrame) -> None:
    if connection.vendor == "postgresql":
        buffer = io.BytesIO()
        frame.select(COPY_COLUMNS).write_csv(buffer, include_header=False)
        with connection.cursor() as cursor:
            sql = f"COPY accounting_aggregate ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
            with cursor.cursor.copy(sql) as copy:
                copy.write(buffer.getvalue())
        return
    Aggregate.objects.bulk_create(
        (Aggregate(**row) for row in frame.select(COPY_COLUMNS).iter_rows(named=True)), batch_size=5000
    )


def store_run(region: Region, year: int, factor_set: FactorSet, activity: pl.DataFrame, results: pl.DataFrame,
              aggregates: dict[str, pl.DataFrame]) -> CalculationRun:
    with transaction.atomic():
        CalculationRun.objects.filter(region=region, year=year, official=True).update(official=False)
        run = CalculationRun.objects.create(
            kind=CalculationRun.Kind.OFFICIAL, status=CalculationRun.Status.DONE, region=region, year=year,
            grid_series=factor_set.default_grid_series, engine_version=ENGINE_VERSION,
            inputs_sha256=hashlib.sha256(str((region.code, year, activity.height)).encode()).hexdigest(),
            input_rows=activity.height,
            total_co2_t=float(aggregates["enterprise_year"].get_column("co2_total_t").sum()),
            total_tce=float(aggregates["enterprise_year"].get_column("tce_total").sum()),
            official=True,
        )
        run.factor_sets.add(factor_set)
        runs = Path(settings.VAR_DIR) / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        path = runs / f"run-{run.pk}.parquet"
        # Sorted by enterprise and month, in small row groups: a page reading one enterprise-month
        # skips the rest of the file by its statistics.
        results.sort("credit_code", "period").with_columns(
            pl.col("credit_code", "period").cast(pl.String)
        ).write_parquet(path, compression="zstd", statistics=True, row_group_size=20_000)
        run.rows_path = str(path.relative_to(settings.VAR_DIR))
        run.rows_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        run.save(update_fields=["rows_path", "rows_sha256"])
        parts = []
        for name, agg in aggregates.items():
            dimension, key = DIMENSIONS[name]
            period = pl.col("period") if name.endswith("_month") else pl.col("year").cast(pl.String)
            count = pl.col("n_enterprises") if "n_enterprises" in agg.columns else pl.lit(1, dtype=pl.UInt32)
            parts.append(agg.select(
                pl.lit(run.pk, dtype=pl.Int64).alias("run_id"), pl.lit(dimension).alias("dimension"),
                pl.col(key).cast(pl.String).alias("key"), period.cast(pl.String).alias("period"),
                count.cast(pl.Int64).alias("n_enterprises"), *VALUE_COLUMNS,
            ))
        _copy_aggregates(pl.concat(parts))
    return run


def build_official_runs(activity_path: Path, region: Region, years: list[int], log=print) -> list[dict]:
    """One official run per year for ``region`` from the preset's Parquet file; returns timings."""
    factor_services.load_shipped()
    factor_set = FactorSet.objects.filter(code=FACTOR_SET).order_by("-version").first()
    frame = factor_services.frame_of(factor_set)
    mapping = mapping_frame(region)
    planted = activity_path.parent / "injected_problems.csv"
    problems = pl.read_csv(planted, infer_schema=False) if planted.exists() else None
    stats = []
    for year in years:
        started = time.perf_counter()
        activity = (
            pl.scan_parquet(activity_path)
            .filter(pl.col("period").cast(pl.String).str.starts_with(f"{year}-"))
            .collect()
            .with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))
        )
        activity, removed = clean(activity, problems)
        results, refused = compute_clean(activity, frame, factor_set.default_grid_series, f"{years[-1]}-12")
        aggregates = aggregate(results, mapping)
        computed = time.perf_counter()
        run = store_run(region, year, factor_set, activity, results, aggregates)
        stored = time.perf_counter()
        digest.ensure(run)
        done = time.perf_counter()
        entry = {"year": year, "run": run.pk, "rows": activity.height, "reviewed_out": removed,
                 "refused_rows": refused, "aggregates": sum(a.height for a in aggregates.values()),
                 "compute_s": round(computed - started, 2), "store_s": round(stored - computed, 2),
                 "digest_s": round(done - stored, 2), "co2_t": round(run.total_co2_t)}
        log(f"  {year}: {entry}")
        stats.append(entry)
    return stats
