"""Every write of the grid app (DESIGN.md rule 2): importing metered electricity; and the monthly sums.

Format (DESIGN.md "Metered electricity"): ``credit_code, date (YYYY-MM-DD), kwh`` for daily
readings, or ``credit_code, period (YYYY-MM), kwh`` for monthly ones; both may be mixed in one
file. Headers in English or Chinese. A batch is all-or-nothing: one error and nothing is stored,
the report lists every problem by row. Validation works on whole columns (Polars) and the rows
are written in bulk (``COPY`` on PostgreSQL, chunked ``executemany`` on SQLite), never one ORM
object at a time. A re-sent reading for the same enterprise and day (or month) replaces the
current one as a new version.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from kiln.accounts.roles import Perm
from kiln.audit import services as audit
from kiln.audit.events import EventType
from kiln.grid import errors
from kiln.grid.models import MeterBatch, MeterReading
from kiln.intake import bulk
from kiln.intake.sql_lists import values_subquery
from kiln.registry.models import Enterprise
from kiln.registry.queries import visible_enterprises
from kiln.registry.tabular import UnreadableTable, read_table

logger = logging.getLogger("kiln.grid")
Door = MeterBatch.Door
SYSTEM_DOORS = {Door.CLI, Door.DEMO}
HEADERS = {
    "credit_code": ("credit_code", "统一社会信用代码", "信用代码"),
    "date": ("date", "日期", "抄表日期"),
    "period": ("period", "月份", "期间"),
    "kwh": (
        "kwh",
        "用电量（千瓦时）",
        "用电量(千瓦时)",
        "用电量",
        "电量（千瓦时）",
        "电量(千瓦时)",
        "电量",
        "千瓦时",
    ),
}
KEYS = tuple(HEADERS)
MAX_REPORTED_ERRORS = 1000
CHUNK_ROWS = 50_000


@dataclass
class GridImportResult:
    status: str
    rows: int
    report: dict
    batch_id: int | None = None
    created: int = 0
    replaced: int = 0
    dry_run: bool = False
    source_format: str = ""
    errors: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in (MeterBatch.Status.IMPORTED, MeterBatch.Status.CHECKED)

    def as_dict(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "status": self.status,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "replaced": self.replaced,
            "error_count": self.report.get("error_count", 0),
            "error_counts": self.report.get("counts", {}),
            "errors": rendered(self.report),
        }


def rendered(report: dict) -> list[dict]:
    return [dict(e, message=errors.message(e["code"])) for e in report.get("errors", [])]


# --- reading -----------------------------------------------------------------------------------------------


def _header_key(text: str) -> str | None:
    normal = (text or "").strip().lower().replace(" ", "")
    for key, names in HEADERS.items():
        if normal in {n.lower() for n in names}:
            return key
    return None


def frame_from_table(headers: list[str], rows: list[tuple[int, list[str]]]) -> pl.DataFrame:
    """A frame of strings (``row`` = the row number the user sees) with the four keys, "" where absent."""
    index = {}
    for i, header in enumerate(headers):
        key = _header_key(header)
        if key and key not in index:
            index[key] = i
    columns: dict[str, list] = {"row": [n for n, _ in rows]}
    for key in KEYS:
        i = index.get(key)
        columns[key] = [cells[i] if i is not None and i < len(cells) else "" for _, cells in rows]
    frame = pl.DataFrame(columns, schema={"row": pl.Int64, **{k: pl.String for k in KEYS}})
    return frame.with_columns(pl.lit(",".join(sorted(index))).alias("_headers"))


def frame_from_records(records: list[dict]) -> pl.DataFrame:
    def text(value) -> str:
        return "" if value is None else str(value)

    data = {"row": list(range(1, len(records) + 1))}
    for key in KEYS:
        data[key] = [text(r.get(key)) for r in records]
    return pl.DataFrame(data, schema={"row": pl.Int64, **{k: pl.String for k in KEYS}}).with_columns(
        pl.lit(",".join(k for k in KEYS if any(k in r for r in records))).alias("_headers")
    )


def frame_from_polars(frame: pl.DataFrame) -> pl.DataFrame:
    renamed = {c: _header_key(c) for c in frame.columns if _header_key(c)}
    frame = frame.rename(renamed)
    out = frame.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row"),
        *[
            (pl.col(k).cast(pl.String).fill_null("") if k in frame.columns else pl.lit("")).alias(k)
            for k in KEYS
        ],
    )
    return out.with_columns(pl.lit(",".join(sorted(renamed.values()))).alias("_headers"))


# --- validation --------------------------------------------------------------------------------------------


def _scope(membership, door: str) -> QuerySet[Enterprise] | None:
    """Enterprises the importer may feed readings for; ``None`` means all (system doors only)."""
    if membership is None:
        if door not in SYSTEM_DOORS:
            raise PermissionDenied("an acting membership is required")
        return None
    if not membership.has_perm(Perm.FEED_GRID_DATA):
        raise PermissionDenied("this membership may not feed metered electricity")
    return visible_enterprises(membership)


def _enterprise_ids(codes: list[str], scope: QuerySet[Enterprise] | None) -> pl.DataFrame:
    allowed = scope if scope is not None else Enterprise.objects.all()
    found = list(allowed.filter(credit_code__in=values_subquery(codes)).values_list("credit_code", "pk"))
    return pl.DataFrame(found, schema={"cc": pl.String, "enterprise_id": pl.Int64}, orient="row")


def validate(frame: pl.DataFrame, scope, *, today: datetime.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(valid rows, error frame). Valid rows: row, enterprise_id, date (Date or null), period, kwh (Float64)."""
    this_month = f"{today.year:04d}-{today.month:02d}"
    t = frame.with_columns(
        pl.col("credit_code").str.strip_chars().str.to_uppercase().alias("cc"),
        pl.col("date").str.strip_chars().str.slice(0, 10).alias("d"),
        pl.col("period").str.strip_chars().alias("p"),
        pl.col("kwh").str.strip_chars().str.replace_all(",", "", literal=True).alias("k"),
    )
    codes = t.get_column("cc").unique().drop_nulls().to_list()
    t = t.join(_enterprise_ids([c for c in codes if c], scope), on="cc", how="left").with_columns(
        pl.col("d").str.to_date("%Y-%m-%d", strict=False).alias("date_value"),
        pl.col("k").cast(pl.Float64, strict=False).alias("kwh_value"),
    )
    has_date, has_period = pl.col("d") != "", pl.col("p") != ""
    period_ok = pl.col("p").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$")
    checks = [
        ("credit_code", "cc", pl.col("enterprise_id").is_null(), errors.ENTERPRISE_UNKNOWN),
        ("date", "d", has_date == has_period, errors.DATE_OR_PERIOD),
        ("date", "d", has_date & ~has_period & pl.col("date_value").is_null(), errors.DATE_INVALID),
        ("date", "d", has_date & ~has_period & (pl.col("date_value") > today), errors.DATE_FUTURE),
        ("period", "p", has_period & ~has_date & ~period_ok, errors.PERIOD_INVALID),
        (
            "period",
            "p",
            has_period & ~has_date & period_ok & (pl.col("p") > this_month),
            errors.PERIOD_FUTURE,
        ),
        ("kwh", "k", pl.col("kwh_value").is_null() | ~pl.col("kwh_value").is_finite(), errors.KWH_INVALID),
        ("kwh", "k", pl.col("kwh_value") < 0, errors.KWH_NEGATIVE),
    ]
    problems = [
        t.filter(condition.fill_null(False)).select(
            "row", pl.lit(column).alias("column"), pl.col(value).alias("value"), pl.lit(code).alias("code")
        )
        for column, value, condition, code in checks
    ]
    rows = t.with_columns(
        pl.when(has_date)
        .then(pl.col("date_value").dt.strftime("%Y-%m"))
        .otherwise(pl.col("p"))
        .alias("period_value"),
    )
    key = pl.struct("enterprise_id", "date_value", "period_value")
    duplicate = pl.col("enterprise_id").is_not_null() & (pl.int_range(pl.len()).over(key) > 0)
    problems.append(
        rows.filter(duplicate).select(
            "row",
            pl.lit("credit_code").alias("column"),
            pl.col("cc").alias("value"),
            pl.lit(errors.DUPLICATE).alias("code"),
        )
    )
    found = pl.concat(problems).sort("row", "column")
    valid = rows.select(
        "row",
        "enterprise_id",
        pl.when(has_date).then(pl.col("date_value")).alias("date"),
        pl.col("period_value").alias("period"),
        pl.col("kwh_value").alias("kwh"),
    )
    return valid, found


def build_report(problems: pl.DataFrame, rows: int) -> dict:
    counts = dict(problems.group_by("code").len().sort("code").iter_rows()) if problems.height else {}
    return {
        "rows": rows,
        "error_count": problems.height,
        "counts": counts,
        "errors": problems.head(MAX_REPORTED_ERRORS).to_dicts(),
        "truncated": problems.height > MAX_REPORTED_ERRORS,
    }


# --- the import --------------------------------------------------------------------------------------------


def _read(source, file_name: str) -> tuple[pl.DataFrame | None, str, str, dict | None]:
    """(frame, source format, SHA-256, report when unreadable)."""
    if isinstance(source, pl.DataFrame):
        return frame_from_polars(source), "frame", "", None
    if isinstance(source, list):
        body = json.dumps(source, ensure_ascii=False, sort_keys=True, default=str).encode()
        return frame_from_records(source), "json", hashlib.sha256(body).hexdigest(), None
    data = (
        source if isinstance(source, bytes | bytearray) else source.read(settings.KILN_MAX_UPLOAD_BYTES + 1)
    )
    sha = hashlib.sha256(data).hexdigest()
    try:
        table = read_table(bytes(data), max_bytes=settings.KILN_MAX_UPLOAD_BYTES)
    except UnreadableTable:
        report = {
            "rows": 0,
            "error_count": 1,
            "counts": {errors.FILE_UNREADABLE: 1},
            "errors": [{"row": None, "column": "", "value": file_name, "code": errors.FILE_UNREADABLE}],
        }
        return None, "", sha, report
    return frame_from_table(table.headers, table.rows), table.source_format, sha, None


def import_readings(
    source,
    *,
    actor,
    membership,
    door: str,
    dry_run: bool = False,
    file_name: str = "",
    today: datetime.date | None = None,
) -> GridImportResult:
    """Validate and (unless ``dry_run``) store a batch of meter readings, all or nothing."""
    scope = _scope(membership, door)
    today = today or timezone.localdate()
    frame, source_format, sha, unreadable = _read(source, file_name)
    fields = {
        "door": door,
        "organisation": membership.organisation if membership else None,
        "submitted_by": actor if getattr(actor, "pk", None) else None,
        "file_name": file_name[:255],
        "file_sha256": sha,
        "source_format": source_format,
    }
    if frame is None:
        return _keep(fields, MeterBatch.Status.REJECTED, unreadable or {}, 0, dry_run)
    headers = set(frame.get_column("_headers")[0].split(",")) if frame.height else set()
    if frame.height == 0:
        report = {
            "rows": 0,
            "error_count": 1,
            "counts": {errors.FILE_EMPTY: 1},
            "errors": [{"row": None, "column": "", "value": "", "code": errors.FILE_EMPTY}],
        }
        return _keep(fields, MeterBatch.Status.REJECTED, report, 0, dry_run)
    if not {"credit_code", "kwh"} <= headers or not headers & {"date", "period"}:
        missing = sorted({"credit_code", "kwh"} - headers) or ["date/period"]
        report = {
            "rows": frame.height,
            "error_count": 1,
            "counts": {errors.HEADER_MISSING: 1},
            "errors": [
                {"row": None, "column": ",".join(missing), "value": "", "code": errors.HEADER_MISSING}
            ],
        }
        return _keep(fields, MeterBatch.Status.REJECTED, report, frame.height, dry_run)
    valid, problems = validate(frame, scope, today=today)
    report = build_report(problems, frame.height)
    if problems.height or dry_run:
        status = MeterBatch.Status.REJECTED if problems.height else MeterBatch.Status.CHECKED
        return _keep(fields, status, report, frame.height, dry_run)
    with transaction.atomic():
        batch, created, replaced = _write(fields, valid, report, actor)
    logger.info("meter readings batch=%s door=%s rows=%s replaced=%s", batch.pk, door, created, replaced)
    return GridImportResult(
        MeterBatch.Status.IMPORTED,
        frame.height,
        report,
        batch.pk,
        created,
        replaced,
        source_format=source_format,
    )


def _keep(fields: dict, status: str, report: dict, rows: int, dry_run: bool) -> GridImportResult:
    batch = MeterBatch.objects.create(
        **fields, status=status, rows=rows, error_count=report.get("error_count", 0), report=report
    )
    return GridImportResult(
        status, rows, report, batch.pk, dry_run=dry_run, source_format=fields["source_format"]
    )


def _write(fields: dict, valid: pl.DataFrame, report: dict, actor) -> tuple[MeterBatch, int, int]:
    batch = MeterBatch.objects.create(
        **fields, status=MeterBatch.Status.IMPORTED, rows=valid.height, report=report
    )
    old = _current_versions(valid)
    keyed = valid.with_columns(pl.col("date").cast(pl.String).fill_null("").alias("day"))
    joined = keyed.join(old, on=["enterprise_id", "day", "period"], how="left")
    old_ids = joined.get_column("old_id").drop_nulls().to_list()
    if old_ids:
        for start in range(0, len(old_ids), CHUNK_ROWS):
            MeterReading.objects.filter(
                id__in=values_subquery(old_ids[start : start + CHUNK_ROWS], integer=True), current=True
            ).update(current=False, superseded_by=batch)
    rows = joined.select(
        "enterprise_id",
        pl.col("date").dt.strftime("%Y-%m-%d").alias("date"),
        "period",
        "kwh",
        pl.lit(batch.pk, dtype=pl.Int64).alias("batch_id"),
        (pl.col("old_version") + 1).fill_null(1).cast(pl.Int64).alias("version"),
        pl.lit(True).alias("current"),
    ).sort("enterprise_id", "period", "date")
    bulk.insert_frame(MeterReading._meta.db_table, rows)
    batch.created_count = rows.height - len(old_ids)
    batch.replaced_count = len(old_ids)
    batch.save(update_fields=["created_count", "replaced_count"])
    audit.record(
        EventType.DATA_IMPORTED,
        actor=actor,
        target=batch,
        organisation=fields["organisation"],
        after={
            "rows": rows.height,
            "replaced": len(old_ids),
            "door": batch.door,
            "file_sha256": batch.file_sha256,
        },
    )
    return batch, batch.created_count, batch.replaced_count


def _current_versions(valid: pl.DataFrame) -> pl.DataFrame:
    """Current readings with the same keys as ``valid``: enterprise_id, day ("" monthly), period, old_id, old_version."""
    schema = {
        "enterprise_id": pl.Int64,
        "day": pl.String,
        "period": pl.String,
        "old_id": pl.Int64,
        "old_version": pl.Int64,
    }
    ids = valid.get_column("enterprise_id").unique().to_list()
    if not ids:
        return pl.DataFrame(schema=schema)
    first, last = valid.get_column("period").min(), valid.get_column("period").max()
    rows = MeterReading.objects.filter(
        current=True,
        enterprise_id__in=values_subquery(ids, integer=True),
        period__gte=first,
        period__lte=last,
    ).values_list("enterprise_id", "date", "period", "id", "version")
    frame = pl.DataFrame(
        [(e, d.isoformat() if d else "", p, i, v) for e, d, p, i, v in rows.iterator(chunk_size=20_000)],
        schema=schema,
        orient="row",
    )
    return frame


def load_demo_metered(path: Path) -> GridImportResult | None:
    """The demo's ``metered_electricity.csv`` (daily or monthly), imported as the platform itself."""
    if not path.exists():
        return None
    frame = pl.read_csv(path, infer_schema=False)
    return import_readings(frame, actor=None, membership=None, door=Door.DEMO, file_name=path.name)


# --- reading the monthly sums ------------------------------------------------------------------------------


def days_in_month(period: str) -> int:
    return calendar.monthrange(int(period[:4]), int(period[5:7]))[1]


MONTHLY_SCHEMA = {
    "credit_code": pl.String,
    "period": pl.String,
    "kwh": pl.Float64,
    "complete": pl.Boolean,
    "days": pl.Int64,
}


def monthly_frame(enterprises: QuerySet[Enterprise] | None, first: str, last: str) -> pl.DataFrame:
    """Current metered electricity per enterprise and month from ``first`` to ``last``.

    Columns: credit_code, period, kwh, complete (a monthly reading, or a daily reading for every day
    of the month), days (daily readings found). A monthly reading wins over daily ones.
    """
    qs = MeterReading.objects.filter(current=True, period__gte=first, period__lte=last)
    if enterprises is not None:
        qs = qs.filter(enterprise__in=enterprises.values("pk"))
    rows = (
        qs.values("enterprise__credit_code", "period")
        .annotate(
            daily=Sum("kwh", filter=Q(date__isnull=False)),
            days=Count("date"),
            monthly=Sum("kwh", filter=Q(date__isnull=True)),
            monthly_n=Count("id", filter=Q(date__isnull=True)),
        )
        .order_by("enterprise__credit_code", "period")
    )
    data = [
        (
            r["enterprise__credit_code"],
            r["period"],
            r["monthly"] if r["monthly_n"] else r["daily"],
            bool(r["monthly_n"]) or r["days"] >= days_in_month(r["period"]),
            r["days"],
        )
        for r in rows.iterator(chunk_size=20_000)
    ]
    return pl.DataFrame(data, schema=MONTHLY_SCHEMA, orient="row")
