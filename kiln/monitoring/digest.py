"""Digests of a calculation run for the portals: region × industry slices and industry benchmarks.

Computed once per run from its enterprise aggregates and the registry (which county and
industry each enterprise belongs to), in one transaction with the ``RunDigest`` marker: a
page either finds the whole digest or computes it. Two processes racing on the same run
both try to insert the marker; the loser waits for the winner's commit and reads its rows.
"""

from __future__ import annotations

import time

import polars as pl
from django.db import IntegrityError, transaction

from kiln.accounting.models import Aggregate, CalculationRun
from kiln.engine.aggregate import VALUE_COLUMNS
from kiln.monitoring.models import IndustryBenchmark, RunDigest, Slice
from kiln.registry.models import Enterprise

CHUNK = 20_000
# Runs known to have their digest, so a page asks the database only once per process and run.
_DIGESTED: set[int] = set()


def enterprise_frame(run: CalculationRun) -> pl.DataFrame:
    """The run's enterprise aggregates (monthly and yearly) with each enterprise's county and division."""
    rows = Aggregate.objects.filter(run=run, dimension=Aggregate.Dimension.ENTERPRISE).values_list(
        "key", "period", *VALUE_COLUMNS
    )
    schema = {"credit_code": pl.String, "period": pl.String} | {c: pl.Float64 for c in VALUE_COLUMNS}
    frame = pl.DataFrame(list(rows.iterator(chunk_size=CHUNK)), schema=schema, orient="row")
    places = Enterprise.objects.filter(region__path__startswith=run.region.path).values_list(
        "credit_code", "region__code", "industry__code"
    )
    mapping = pl.DataFrame(
        list(places.iterator(chunk_size=CHUNK)), schema=["credit_code", "county", "industry"], orient="row"
    ).with_columns(pl.col("industry").str.slice(0, 3))
    # An enterprise no longer in the registry's region keeps its numbers under an unknown place.
    return frame.join(mapping, on="credit_code", how="left").with_columns(
        pl.col("county").fill_null(run.region.code), pl.col("industry").fill_null("")
    )


def slices(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("county", "industry", "period").agg(
        pl.len().alias("n_enterprises"), *[pl.col(c).sum() for c in VALUE_COLUMNS]
    )


def benchmarks(frame: pl.DataFrame) -> pl.DataFrame:
    co2, tce = pl.col("co2_total_t"), pl.col("tce_total")
    return frame.filter(pl.col("industry") != "").group_by("industry", "period").agg(
        pl.len().alias("n_enterprises"),
        co2.median().alias("co2_median_t"),
        co2.quantile(0.25, "linear").alias("co2_p25_t"),
        co2.quantile(0.75, "linear").alias("co2_p75_t"),
        tce.median().alias("tce_median"),
        tce.quantile(0.25, "linear").alias("tce_p25"),
        tce.quantile(0.75, "linear").alias("tce_p75"),
    )


def build(run: CalculationRun) -> RunDigest:
    """Compute and store the digest of ``run`` (inside the caller's transaction)."""
    started = time.perf_counter()
    frame = enterprise_frame(run)
    digest = RunDigest.objects.create(run=run)
    Slice.objects.bulk_create(
        (Slice(run=run, **row) for row in slices(frame).iter_rows(named=True)), batch_size=2000
    )
    IndustryBenchmark.objects.bulk_create(
        (IndustryBenchmark(run=run, **row) for row in benchmarks(frame).iter_rows(named=True)), batch_size=2000
    )
    digest.enterprises = frame.get_column("credit_code").n_unique()
    digest.elapsed_ms = int((time.perf_counter() - started) * 1000)
    digest.save(update_fields=["enterprises", "elapsed_ms"])
    return digest


def ensure(run: CalculationRun) -> None:
    """Make sure ``run`` has its digest; free when this process has seen it before."""
    if run.pk in _DIGESTED:
        return
    if not RunDigest.objects.filter(run=run).exists():
        try:
            with transaction.atomic():
                build(run)
        except IntegrityError:
            # Someone else digested it between our check and our insert; theirs is committed now.
            if not RunDigest.objects.filter(run=run).exists():
                raise
    if not transaction.get_connection().in_atomic_block:
        _DIGESTED.add(run.pk)


def ensure_all(runs) -> None:
    missing = [r for r in runs if r.pk not in _DIGESTED]
    if not missing:
        return
    done = set(RunDigest.objects.filter(run__in=[r.pk for r in missing]).values_list("run_id", flat=True))
    for run in missing:
        if run.pk in done:
            if not transaction.get_connection().in_atomic_block:
                _DIGESTED.add(run.pk)
        else:
            ensure(run)


def forget() -> None:
    """Forget what this process knows (tests that delete digests)."""
    _DIGESTED.clear()
