"""Every write to the factor library, and turning stored sets into engine frames."""

from __future__ import annotations

import hashlib
import io

import polars as pl
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.engine import factorset as engine_factors
from kiln.factors import errors
from kiln.factors.models import FactorSet, FactorValue

VALUE_COLUMNS = [
    "item",
    "parameter",
    "series",
    "year_from",
    "year_to",
    "value",
    "unit",
    "source",
    "confidence",
    "note",
]


def content_sha256(frame: pl.DataFrame) -> str:
    """A hash of the values alone (not the set's name), stable under row order."""
    canonical = frame.select(VALUE_COLUMNS).sort(
        ["item", "parameter", "series", "year_from"], nulls_last=True
    )
    return hashlib.sha256(canonical.write_csv().encode()).hexdigest()


def frame_of(factor_set: FactorSet) -> pl.DataFrame:
    """The engine's factor-set frame for a stored set (``factor_set`` column = ``code@vN``)."""
    rows = list(factor_set.values.values(*VALUE_COLUMNS))
    frame = pl.DataFrame(
        rows, schema={c: engine_factors.FACTOR_SET_SCHEMA[c] for c in VALUE_COLUMNS}, orient="row"
    )
    return frame.with_columns(pl.lit(factor_set.label).alias("factor_set")).select(
        list(engine_factors.FACTOR_SET_SCHEMA)
    )


def _check(frame: pl.DataFrame) -> None:
    problems = engine_factors.check(frame.with_columns(pl.lit("candidate").alias("factor_set")))
    if problems.height:
        raise errors.refuse(errors.INVALID, problems.get_column("message").to_list())


@transaction.atomic
def create_set(
    *,
    actor,
    code: str,
    frame: pl.DataFrame,
    name: str,
    source: str,
    name_en: str = "",
    description: str = "",
    default_grid_series: str = engine_factors.DEFAULT_GRID_SERIES,
    effective_from=None,
    effective_to=None,
) -> FactorSet:
    """Store ``frame`` as the next version of ``code``; the previous version stays as it was."""
    frame = frame.with_columns(
        pl.col("series").fill_null(""), pl.col("note").fill_null(""), pl.col("source").fill_null("")
    )
    _check(frame)
    latest = FactorSet.objects.filter(code=code).aggregate(v=Max("version"))["v"]
    previous = FactorSet.objects.filter(code=code, version=latest).first() if latest else None
    factor_set = FactorSet.objects.create(
        code=code,
        version=(latest or 0) + 1,
        name=name,
        name_en=name_en,
        description=description,
        default_grid_series=default_grid_series,
        effective_from=effective_from,
        effective_to=effective_to,
        source=source,
        content_sha256=content_sha256(frame),
        supersedes=previous,
        created_by=actor,
    )
    FactorValue.objects.bulk_create(
        FactorValue(factor_set=factor_set, **row) for row in frame.select(VALUE_COLUMNS).iter_rows(named=True)
    )
    _audit(actor, EventType.DATA_CREATED, factor_set)
    return factor_set


def load_shipped(*, actor=None) -> list[FactorSet]:
    """Store the sets shipped in ``kiln/factors/data`` as version 1, unless already there."""
    created = []
    for name, meta in engine_factors.available().items():
        if FactorSet.objects.filter(code=name).exists():
            continue
        frame = engine_factors.load(name)
        created.append(
            create_set(
                actor=actor,
                code=name,
                frame=frame,
                name=name,
                source="kiln/factors/data (see each value's source; /work/shared/domain/domain.md)",
                description=meta["description"],
                default_grid_series=meta["default_grid_series"],
            )
        )
    return created


def lock(factor_set: FactorSet) -> None:
    """Freeze a set because a calculation used it (idempotent)."""
    if factor_set.locked_at is None:
        FactorSet.objects.filter(pk=factor_set.pk, locked_at__isnull=True).update(locked_at=timezone.now())
        factor_set.refresh_from_db(fields=["locked_at"])


@transaction.atomic
def replace_values(factor_set: FactorSet, frame: pl.DataFrame, *, actor) -> FactorSet:
    """Edit a draft (never used) set in place; a used set is refused: make a new version."""
    factor_set = FactorSet.objects.select_for_update().get(pk=factor_set.pk)
    if factor_set.locked:
        raise errors.refuse(errors.LOCKED)
    _check(frame)
    factor_set.values.all().delete()
    FactorValue.objects.bulk_create(
        FactorValue(factor_set=factor_set, **row) for row in frame.select(VALUE_COLUMNS).iter_rows(named=True)
    )
    factor_set.content_sha256 = content_sha256(frame)
    factor_set.save(update_fields=["content_sha256"])
    _audit(actor, EventType.DATA_UPDATED, factor_set)
    return factor_set


def read_upload(name: str, data: bytes) -> pl.DataFrame:
    """A factor file (CSV in UTF-8/BOM/GBK, or XLSX) with the factor columns, as a frame."""
    try:
        if name.lower().endswith(".xlsx"):
            raw = pl.read_excel(io.BytesIO(data), engine="calamine", infer_schema_length=0)
        else:
            text = _decode(data)
            raw = pl.read_csv(io.StringIO(text), infer_schema_length=0)
        missing = [
            c for c in ("item", "parameter", "value", "unit", "source", "confidence") if c not in raw.columns
        ]
        if missing:
            raise errors.refuse(errors.FILE_UNREADABLE, [f"missing columns: {', '.join(missing)}"])
        for column in ("series", "note", "year_from", "year_to"):
            if column not in raw.columns:
                raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(column))
        return raw.select(
            pl.col("item").str.strip_chars(),
            pl.col("parameter").str.strip_chars(),
            pl.col("series").fill_null("").str.strip_chars(),
            pl.col("year_from").str.strip_chars().replace("", None).cast(pl.Int32, strict=True),
            pl.col("year_to").str.strip_chars().replace("", None).cast(pl.Int32, strict=True),
            pl.col("value").str.strip_chars().cast(pl.Float64, strict=True),
            pl.col("unit").str.strip_chars(),
            pl.col("source").fill_null(""),
            pl.col("confidence").str.strip_chars(),
            pl.col("note").fill_null(""),
        )
    except errors.FactorError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file, reported as such
        raise errors.refuse(errors.FILE_UNREADABLE, [str(exc).splitlines()[0][:200]]) from exc


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise errors.refuse(errors.FILE_UNREADABLE, ["unknown text encoding"])


def diff(old: FactorSet, new: FactorSet) -> pl.DataFrame:
    """Values added, removed or changed between two sets (keys: item, parameter, series, years)."""
    keys = ["item", "parameter", "series", "year_from", "year_to"]
    a = (
        frame_of(old)
        .select(*keys, "value", "unit", "confidence")
        .rename({"value": "old_value", "unit": "old_unit", "confidence": "old_confidence"})
    )
    b = frame_of(new).select(*keys, "value", "unit", "confidence")
    joined = a.join(b, on=keys, how="full", coalesce=True, nulls_equal=True)
    change = (
        pl.when(pl.col("old_value").is_null())
        .then(pl.lit("added"))
        .when(pl.col("value").is_null())
        .then(pl.lit("removed"))
        .when((pl.col("old_value") != pl.col("value")) | (pl.col("old_unit") != pl.col("unit")))
        .then(pl.lit("changed"))
        .when(pl.col("old_confidence") != pl.col("confidence"))
        .then(pl.lit("confidence"))
        .otherwise(pl.lit("same"))
    )
    return (
        joined.with_columns(change.alias("change"))
        .with_columns(
            pl.when(pl.col("old_value") > 0)
            .then((pl.col("value") - pl.col("old_value")) / pl.col("old_value"))
            .otherwise(None)
            .alias("relative_change")
        )
        .filter(pl.col("change") != "same")
        .sort(keys, nulls_last=True)
    )


def _audit(actor, event: EventType, factor_set: FactorSet) -> None:
    record(
        event,
        actor=actor,
        target=factor_set,
        after={"label": factor_set.label, "sha256": factor_set.content_sha256},
    )
