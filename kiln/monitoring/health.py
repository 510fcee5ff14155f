"""The platform admin's view: is the platform healthy, and how fresh is its data."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kiln.accounting.models import Aggregate, CalculationRun
from kiln.accounts.models import User
from kiln.monitoring import memo
from kiln.monitoring.models import RegionMap, RunDigest
from kiln.monitoring.tables import Column, Table
from kiln.registry.models import Enterprise, Region

LOW_DISK = 0.10  # warn below this share of free space
COUNTS_SECONDS = 30.0  # counts and freshness tables: recomputed at most this often


def _estimate(model) -> tuple[int, bool]:
    """Rows in a large table: PostgreSQL's planner estimate (instant), an exact count elsewhere."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
            row = cursor.fetchone()
        if row and row[0] is not None and row[0] >= 0:
            return int(row[0]), True
    return model.objects.count(), False


def _pending_migrations() -> int:
    """Migrations not applied (reading every migration file: done at most every COUNTS_SECONDS)."""
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _counts() -> tuple[list[dict], int, list[dict], list[dict]]:
    from kiln.intake.models import ActivityRecord, EvidenceFile, ImportBatch

    records, records_estimated = _estimate(ActivityRecord)
    aggregates, aggregates_estimated = _estimate(Aggregate)
    official = CalculationRun.objects.filter(official=True)
    counts = [
        {"label": _("Enterprises"), "value": Enterprise.objects.count()},
        {"label": _("Key emitters"), "value": Enterprise.objects.filter(key_emitter=True).count()},
        {"label": _("Regions"), "value": Region.objects.count()},
        {"label": _("Active users"), "value": User.objects.filter(is_active=True, deleted_at__isnull=True).count()},
        {"label": _("Imported batches"), "value": ImportBatch.objects.filter(status=ImportBatch.Status.IMPORTED).count()},
        {"label": _("Rejected batches"), "value": ImportBatch.objects.filter(status=ImportBatch.Status.REJECTED).count()},
        {"label": _("Activity records"), "value": records, "estimated": records_estimated},
        {"label": _("Evidence files"), "value": EvidenceFile.objects.count()},
        {"label": _("Official runs"), "value": official.count()},
        {"label": _("Aggregate rows"), "value": aggregates, "estimated": aggregates_estimated},
        {"label": _("Region maps"), "value": RegionMap.objects.filter(current=True).count()},
    ]
    counts = [dict(c, label=str(c["label"])) for c in counts]
    undigested = official.exclude(pk__in=RunDigest.objects.values("run_id")).count()
    batches = (
        ImportBatch.objects.filter(status=ImportBatch.Status.IMPORTED)
        .values("organisation__region__code", "organisation__region__name", "organisation__region__name_en")
        .annotate(latest=Max("created"), batches=Count("id"), rows=Sum("row_count"))
        .order_by("organisation__region__code")
    )
    batch_rows = [
        {"code": b["organisation__region__code"] or "—",
         "name": b["organisation__region__name"] or str(_("platform or command line")),
         "latest": timezone.localtime(b["latest"]).strftime("%Y-%m-%d %H:%M") if b["latest"] else "",
         "batches": b["batches"], "rows": b["rows"] or 0}
        for b in batches
    ]
    digested = set(RunDigest.objects.values_list("run_id", flat=True))
    run_rows = [
        {"region": r.region.label, "code": r.region.code, "year": r.year, "run": r.pk,
         "created": timezone.localtime(r.created).strftime("%Y-%m-%d %H:%M"), "input_rows": r.input_rows,
         "co2": r.total_co2_t, "tce": r.total_tce, "digest": str(_("yes")) if r.pk in digested else str(_("no"))}
        for r in official.select_related("region").order_by("region__code", "-year")
    ]
    return counts, undigested, batch_rows, run_rows


@dataclass
class Report:
    counts: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    batch_rows: list[dict] = field(default_factory=list)
    run_rows: list[dict] = field(default_factory=list)
    batches: Table | None = None
    runs: Table | None = None

    @classmethod
    def collect(cls) -> Report:
        """Live checks (database, migrations, disk); counts and freshness at most ``COUNTS_SECONDS`` old."""
        report = cls()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        db_ms = (time.perf_counter() - started) * 1000
        counts, undigested, report.batch_rows, report.run_rows = memo.shared(
            ("platform", get_language()), _counts, seconds=COUNTS_SECONDS
        )
        report.counts = counts
        usage = shutil.disk_usage(settings.VAR_DIR)
        free = usage.free / usage.total if usage.total else 1.0
        pending = memo.remember(("pending-migrations",), _pending_migrations, seconds=COUNTS_SECONDS)
        report.checks = [
            {"label": _("Database"), "ok": True, "detail": _("answers in %(ms).1f ms (%(vendor)s)")
             % {"ms": db_ms, "vendor": connection.vendor}},
            {"label": _("Migrations"), "ok": pending == 0,
             "detail": _("all applied") if pending == 0 else _("%(n)s not applied") % {"n": pending}},
            {"label": _("Disk space"), "ok": free >= LOW_DISK,
             "detail": _("%(free).0f %% free of %(total).0f GB") % {"free": free * 100, "total": usage.total / 1e9}},
            {"label": _("Digests of official runs"), "ok": undigested == 0,
             "detail": _("up to date") if undigested == 0 else _("%(n)s runs wait for their first page view")
             % {"n": undigested}},
        ]
        return report

    def _tables(self) -> dict[str, Table]:
        batches = Table("batches", _("Latest import per region"), [
            Column("code", _("Code"), kind="code"), Column("name", _("Region"), kind="text"),
            Column("latest", _("Latest batch"), kind="code"), Column("batches", _("Batches")),
            Column("rows", _("Rows")),
        ], rows=self.batch_rows, default_sort="-latest", empty=_("No data has been imported yet."))
        runs = Table("runs", _("Official runs"), [
            Column("region", _("Region"), kind="text"), Column("code", _("Code"), kind="code"),
            Column("year", _("Year"), kind="code"), Column("run", _("Run"), kind="code"),
            Column("created", _("Computed"), kind="code"), Column("input_rows", _("Input rows")),
            Column("co2", _("Emissions (tCO2)")), Column("tce", _("Energy (tce)")),
            Column("digest", _("Digest"), kind="text"),
        ], rows=self.run_rows, default_sort="-year", empty=_("No calculation run is official yet."))
        return {"batches": batches, "runs": runs}

    def bind(self, request) -> None:
        tables = self._tables()
        self.batches = tables["batches"].bind(request.GET, request.path)
        self.runs = tables["runs"].bind(request.GET, request.path)

    def tables(self) -> dict:
        return {"batches": lambda: self.batches, "runs": lambda: self.runs}
