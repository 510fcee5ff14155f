"""Every write of the carbon-efficiency code (DESIGN.md rule 2): economic data, configuration, gradings."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kiln.accounting.models import Aggregate, CalculationRun
from kiln.accounts.models import Membership
from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.efficiency import errors
from kiln.efficiency.economic import EconomicRow, validate_economic
from kiln.efficiency.models import (
    EconomicBatch,
    EconomicRecord,
    EfficiencyConfig,
    EfficiencyResult,
    EfficiencyRun,
)
from kiln.efficiency.queries import can_import
from kiln.engine import efficiency as engine
from kiln.engine import factorset
from kiln.registry.errors import RowError
from kiln.registry.models import Enterprise, Region
from kiln.registry.queries import visible_enterprises
from kiln.registry.tabular import UnreadableTable, read_table
from kiln.registry.validation import chunks

logger = logging.getLogger("kiln.efficiency")
BATCH = 1000
SERVER_DOORS = (EconomicBatch.Door.CLI, EconomicBatch.Door.DEMO)


# --- economic data -------------------------------------------------------------------------------------


@dataclass
class EconomicImportResult:
    rows: int = 0
    created: int = 0
    corrected: int = 0
    unchanged: int = 0
    source_format: str = ""
    dry_run: bool = False
    batch_id: int | None = None
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "corrected": self.corrected,
            "unchanged": self.unchanged,
            "source_format": self.source_format,
            "batch_id": self.batch_id,
            "errors": [{**e.as_dict(), "message": e.message} for e in self.errors],
        }


def import_economic(
    data: bytes,
    *,
    actor,
    membership: Membership | None,
    door: str,
    dry_run: bool = False,
    file_name: str = "",
    reason: str = "",
) -> EconomicImportResult:
    """Check a CSV/XLSX file of economic data and, unless ``dry_run`` or any row is wrong, store all of it.

    ``membership`` decides which enterprises rows may name (its visible enterprises); ``None`` means
    every enterprise and is allowed only for the server-side doors (command line, demo loader).
    A row for an enterprise-year already stored with other values becomes its next version.
    """
    result = EconomicImportResult(dry_run=dry_run)
    if membership is None and door not in SERVER_DOORS:
        raise ValueError("only the command line and the demo loader import without a membership")
    if membership is not None and not can_import(membership):
        result.errors = [RowError(errors.NO_SCOPE)]
        return result
    try:
        table = read_table(data, max_bytes=settings.KILN_MAX_UPLOAD_BYTES)
    except UnreadableTable as exc:
        result.errors = [exc.error]
        return result
    result.rows, result.source_format = len(table.rows), table.source_format
    scope = visible_enterprises(membership) if membership is not None else None
    rows, problems = validate_economic(table, scope=scope, this_year=timezone.localdate().year)
    if problems:
        result.errors = problems
        return result
    if dry_run:
        result.created, result.corrected, result.unchanged = _plan(rows)[1:]
        return result
    with transaction.atomic():
        batch = EconomicBatch.objects.create(
            door=door,
            organisation=membership.organisation if membership else None,
            submitted_by=actor,
            file_name=file_name[:255],
            file_sha256=hashlib.sha256(data).hexdigest(),
            source_format=table.source_format,
            rows=len(rows),
            reason=reason.strip()[:500],
        )
        result.created, result.corrected, result.unchanged = _write(rows, batch, actor)
        batch.created_count, batch.corrected_count, batch.unchanged_count = (
            result.created,
            result.corrected,
            result.unchanged,
        )
        batch.save(update_fields=["created_count", "corrected_count", "unchanged_count"])
        result.batch_id = batch.pk
        record(
            EventType.DATA_IMPORTED,
            actor=actor,
            target=batch,
            organisation=membership.organisation if membership else None,
            after={
                "kind": "economic",
                "file_sha256": batch.file_sha256,
                "rows": len(rows),
                "created": result.created,
                "corrected": result.corrected,
                "unchanged": result.unchanged,
            },
        )
    logger.info("economic import batch=%s rows=%s", result.batch_id, len(rows))
    return result


def _current(rows: list[EconomicRow]) -> dict[tuple[int, int], EconomicRecord]:
    found: dict[tuple[int, int], EconomicRecord] = {}
    ids = sorted({r.enterprise_id for r in rows})
    years = sorted({r.year for r in rows})
    for chunk in chunks(ids):
        for rec in EconomicRecord.objects.filter(enterprise_id__in=chunk, year__in=years, current=True):
            found[(rec.enterprise_id, rec.year)] = rec
    return found


def _plan(rows: list[EconomicRow]):
    current = _current(rows)
    new, changed = [], []
    for row in rows:
        stored = current.get((row.enterprise_id, row.year))
        if stored is None:
            new.append(row)
        elif stored.value_added_10k_cny != row.value_added or stored.output_value_10k_cny != row.output_value:
            changed.append((row, stored))
    return (new, changed), len(new), len(changed), len(rows) - len(new) - len(changed)


def _write(rows: list[EconomicRow], batch: EconomicBatch, actor) -> tuple[int, int, int]:
    (new, changed), created, corrected, unchanged = _plan(rows)
    old = [stored for _, stored in changed]
    for stored in old:
        stored.current = False
        stored.superseded_by = batch
    # The old versions stop being current before the new ones are inserted (one current per key).
    EconomicRecord.objects.bulk_update(old, ["current", "superseded_by"], batch_size=BATCH)
    user = actor if getattr(actor, "is_authenticated", False) else None
    objects = [
        EconomicRecord(
            enterprise_id=row.enterprise_id,
            year=row.year,
            value_added_10k_cny=row.value_added,
            output_value_10k_cny=row.output_value,
            batch=batch,
            uploaded_by=user,
            version=version,
        )
        for row, version in [(r, 1) for r in new] + [(r, s.version + 1) for r, s in changed]
    ]
    EconomicRecord.objects.bulk_create(objects, batch_size=BATCH)
    return created, corrected, unchanged


# --- configuration -------------------------------------------------------------------------------------


def current_config() -> EfficiencyConfig:
    """The newest configuration; the defaults of domain.md §4.2 become version 1 when there is none."""
    config = EfficiencyConfig.objects.order_by("-version").first()
    if config is None:
        config, _ = EfficiencyConfig.objects.get_or_create(version=1)
    return config


CONFIG_FIELDS = (
    "level_low_max",
    "level_medium_max",
    "grade_1_max",
    "grade_2_max",
    "grade_3_max",
    "grade_4_max",
    "industry_level",
    "mean_kind",
    "include_process",
    "min_industry_enterprises",
    "neutral_medium_min",
    "neutral_high_min",
    "colours",
    "code_validity_days",
    "source",
    "note",
)


@transaction.atomic
def new_config(*, actor, **changes) -> EfficiencyConfig:
    """A new configuration version: the current one with ``changes``. Older versions are never edited."""
    unknown = set(changes) - set(CONFIG_FIELDS)
    if unknown:
        raise TypeError(f"unknown configuration fields: {', '.join(sorted(unknown))}")
    base = current_config()
    values = {f: getattr(base, f) for f in CONFIG_FIELDS} | changes
    latest = EfficiencyConfig.objects.aggregate(v=Max("version"))["v"] or 0
    config = EfficiencyConfig(version=latest + 1, created_by=actor if _is_user(actor) else None, **values)
    config.full_clean()
    config.save()
    record(
        EventType.DATA_CREATED, actor=actor, target=config, before={"version": base.version}, after=changes
    )
    return config


def _is_user(actor) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


# --- grading -------------------------------------------------------------------------------------------


def official_run(year: int, region: Region | None = None) -> CalculationRun | None:
    """The official accounting run of ``year`` that covers ``region``: the broadest one."""
    runs = CalculationRun.objects.filter(
        official=True, year=year, status=CalculationRun.Status.DONE
    ).select_related("region")
    covering = [r for r in runs if region is None or region.path.startswith(r.region.path)]
    if not covering:
        return None
    return min(covering, key=lambda r: (len(r.region.path), r.region.path))


def _previous_run(run: CalculationRun) -> CalculationRun | None:
    return official_run(run.year - 1, run.region)


def grid_factor(run: CalculationRun, year: int) -> float | None:
    """The run's grid emission factor for ``year`` (tCO2/MWh): what green power would have caused."""
    from kiln.factors.services import frame_of

    factor_set = run.factor_sets.order_by("pk").first()
    if factor_set is None:
        return None
    series = factorset.grid_series_name(run.grid_series)
    resolved = factorset.resolve(frame_of(factor_set), ["electricity_purchased"], [year], series)
    value = resolved.item(0, "ef") if resolved.height else None
    return float(value) if value is not None else None


def _aggregates(runs: list[CalculationRun], *, monthly: bool) -> pl.DataFrame:
    columns = ["key", "period", *engine.VALUE_COLUMNS]
    qs = Aggregate.objects.filter(run__in=runs, dimension=Aggregate.Dimension.ENTERPRISE)
    qs = qs.filter(period__contains="-") if monthly else qs.filter(period__in=[str(r.year) for r in runs])
    frame = pl.DataFrame(
        list(qs.values_list(*columns).iterator(chunk_size=10_000)),
        schema={"key": pl.String, "period": pl.String, **{c: pl.Float64 for c in engine.VALUE_COLUMNS}},
        orient="row",
    )
    return frame.rename({"key": "credit_code"})


def _green(runs: list[CalculationRun]) -> pl.DataFrame:
    """Self-generated zero-carbon power per enterprise-month, from the runs' per-row results."""
    from kiln.accounting.services import rows_of

    frames = []
    for run in runs:
        if not run.rows_path or not (Path(settings.VAR_DIR) / run.rows_path).is_file():
            logger.warning("accounting run %s has no per-row results file; no green power counted", run.pk)
            continue
        rows = rows_of(run).select("credit_code", "period", "year", "item", "quantity_canonical")
        factors = pl.DataFrame(
            {"year": [run.year], "grid_factor": [grid_factor(run, run.year)]},
            schema={"year": pl.Int32, "grid_factor": pl.Float64},
        )
        frames.append(engine.green_power(rows.filter(pl.col("year") == run.year), factors))
    if not frames:
        return pl.DataFrame(
            schema={
                "credit_code": pl.String,
                "period": pl.String,
                "green_mwh": pl.Float64,
                "co2_avoided_t": pl.Float64,
            }
        )
    return pl.concat(frames)


def _enterprises(region: Region) -> tuple[pl.DataFrame, dict[str, int]]:
    rows = list(
        Enterprise.objects.filter(region__path__startswith=region.path).values_list(
            "credit_code", "industry__code", "pk"
        )
    )
    frame = pl.DataFrame(
        [(c, i) for c, i, _ in rows],
        schema={"credit_code": pl.String, "industry_code": pl.String},
        orient="row",
    )
    return frame, {c: pk for c, _, pk in rows if c}


def _economic(
    ids: dict[str, int], years: list[int]
) -> tuple[pl.DataFrame, dict[tuple[str, int], EconomicRecord]]:
    by_pk = {pk: code for code, pk in ids.items()}
    records: dict[tuple[str, int], EconomicRecord] = {}
    for chunk in chunks(sorted(by_pk)):
        for rec in EconomicRecord.objects.filter(enterprise_id__in=chunk, year__in=years, current=True):
            records[(by_pk[rec.enterprise_id], rec.year)] = rec
    frame = pl.DataFrame(
        [(code, year, float(rec.value_added_10k_cny)) for (code, year), rec in records.items()],
        schema={"credit_code": pl.String, "year": pl.Int32, "value_added_10k_cny": pl.Float64},
        orient="row",
    )
    return frame, records


def _inputs_sha256(config, run, previous, records) -> str:
    parts = [
        f"config={config.version}",
        f"run={run.pk}:{run.inputs_sha256}",
        f"previous={previous.pk if previous else ''}:{previous.inputs_sha256 if previous else ''}",
        *sorted(f"{code}:{year}:{rec.pk}:{rec.version}" for (code, year), rec in records.items()),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _rolling_ends(monthly: pl.DataFrame, year: int) -> list[str]:
    """Months of ``year`` (except December: that window is the calendar year) with data."""
    months = monthly.filter(pl.col("period").str.starts_with(f"{year}-")).get_column("period").unique().sort()
    return [m for m in months.to_list() if m != f"{year}-12"]


@transaction.atomic
def grade_year(
    *,
    actor,
    year: int,
    region: Region | None = None,
    config: EfficiencyConfig | None = None,
    force: bool = False,
) -> EfficiencyRun:
    """Grade every enterprise of the official accounting run of ``year`` covering ``region``.

    The grading covers the run's whole region (industry means need every peer); it becomes the
    current grading of that region and year, the previous one stays as history. If nothing changed
    since the current grading (same accounting runs, configuration and economic records), that
    grading is returned as it is unless ``force``.
    """
    started = time.perf_counter()
    run = official_run(year, region)
    if run is None:
        raise errors.EfficiencyError(errors.NO_OFFICIAL_RUN)
    config = config or current_config()
    method = config.method()
    previous = _previous_run(run)
    mapping, ids = _enterprises(run.region)
    economic, records = _economic(ids, [year - 1, year])
    digest = _inputs_sha256(config, run, previous, records)
    existing = EfficiencyRun.objects.filter(region=run.region, year=year, current=True).first()
    if existing is not None and existing.inputs_sha256 == digest and not force:
        return existing

    runs = [r for r in (previous, run) if r is not None]
    factor = grid_factor(run, year)
    green = _green(runs)
    yearly = engine.yearly_inputs(
        _aggregates([run], monthly=False).filter(pl.col("period") == str(year)),
        green,
        economic,
        mapping,
        year=year,
        grid_factor=factor,
    )
    monthly = _aggregates(runs, monthly=True)
    rolling = engine.rolling_inputs(monthly, green, economic, mapping, ends=_rolling_ends(monthly, year))
    assessed_year = engine.assess(yearly, method)
    assessed_rolling = engine.assess(rolling, method)

    EfficiencyRun.objects.filter(region=run.region, year=year, current=True).update(current=False)
    graded = assessed_year.filter(pl.col("grade").is_not_null()).height
    eff_run = EfficiencyRun.objects.create(
        config=config,
        calculation=run,
        previous_calculation=previous,
        region=run.region,
        year=year,
        grid_factor=factor,
        inputs_sha256=digest,
        graded=graded,
        not_graded=assessed_year.height - graded,
        created_by=actor if _is_user(actor) else None,
    )
    objects = [
        *_results(eff_run, assessed_year, EfficiencyResult.PeriodKind.YEAR, ids, records, year),
        *_results(eff_run, assessed_rolling, EfficiencyResult.PeriodKind.ROLLING, ids, {}, year),
    ]
    EfficiencyResult.objects.bulk_create(objects, batch_size=BATCH)
    record(
        EventType.DATA_CREATED,
        actor=actor,
        target=eff_run,
        after={
            "year": year,
            "region": run.region.code,
            "calculation_run": run.pk,
            "config": config.version,
            "inputs_sha256": digest,
            "graded": graded,
            "not_graded": eff_run.not_graded,
            "rolling_results": assessed_rolling.height,
        },
    )
    logger.info(
        "efficiency grading run=%s year=%s graded=%s in %.0f ms",
        eff_run.pk,
        year,
        graded,
        (time.perf_counter() - started) * 1000,
    )
    return eff_run


def _results(eff_run, frame: pl.DataFrame, kind: str, ids: dict[str, int], records: dict, year: int):
    for row in frame.iter_rows(named=True):
        rec = records.get((row["credit_code"], year))
        yield EfficiencyResult(
            run=eff_run,
            enterprise_id=ids[row["credit_code"]],
            period=row["period"],
            period_kind=kind,
            industry_key=row["industry_key"] or "",
            co2_gross_t=row["co2_gross_t"],
            co2_process_t=row[engine.PROCESS_CO2_COLUMN] or 0.0,
            green_mwh=row["green_mwh"] or 0.0,
            co2_avoided_t=row["co2_avoided_t"] or 0.0,
            sinks_t=row["sinks_t"] or 0.0,
            co2_net_t=row["co2_net_t"],
            tce_total=row["tce_total"] or 0.0,
            metered_mwh=row["metered_mwh"],
            estimated=bool(row["estimated"]),
            value_added_10k_cny=row["value_added_10k_cny"],
            economic_record=rec,
            l_value=row["l"],
            level=row["level"] or "",
            industry_mean_l=row["industry_mean_l"],
            industry_n=row["industry_n"] or 0,
            k_value=row["k"],
            grade=row["grade"],
            neutral_rate=row["neutral_rate"],
            neutral_mark=row["neutral_mark"] or "",
            reason=row["reason"] or "",
        )


def load_demo_economic(path: Path) -> EconomicImportResult:
    """The demo city's ``economic.csv`` (``kiln demo-data`` calls this after loading the registry)."""
    return import_economic(
        Path(path).read_bytes(),
        actor=None,
        membership=None,
        door=EconomicBatch.Door.DEMO,
        file_name=Path(path).name,
    )
