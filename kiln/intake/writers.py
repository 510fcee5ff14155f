"""Writes of activity records: new versions in bulk (``kiln.intake.bulk``), superseded ones marked.

Both run inside the caller's transaction, so a failure half-way leaves nothing behind.
"""

from __future__ import annotations

import polars as pl
from django.db import connection

from kiln.intake import bulk
from kiln.intake.models import ActivityRecord
from kiln.intake.sql_lists import values_subquery

TEXT_COLUMNS = ("period", "item", "unit", "source", "facility", "note", "reason")


def record_frame(rows: pl.DataFrame, *, batch_id: int, reason: str) -> pl.DataFrame:
    """The table's columns, in order, from validated rows; a corrected key gets the next version."""
    corrected = pl.col("_old_id").is_not_null()
    return rows.select(
        pl.col("enterprise_id"),
        pl.col("period"),
        pl.col("item"),
        pl.col("quantity"),
        pl.col("unit"),
        pl.col("canonical_quantity"),
        pl.col("source").fill_null(""),
        pl.col("facility").fill_null(""),
        pl.col("note").fill_null(""),
        pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
        (pl.col("_old_version") + 1).fill_null(1).alias("version"),
        pl.lit(True).alias("current"),
        pl.when(corrected).then(pl.lit(reason)).otherwise(pl.lit("")).alias("reason"),
    )


def supersede(old_ids: list[int], *, batch_id: int) -> int:
    """Mark the versions being corrected as no longer current (before the new ones go in)."""
    if not old_ids:
        return 0
    return ActivityRecord.objects.filter(id__in=values_subquery(old_ids, integer=True), current=True).update(
        current=False, superseded_by_id=batch_id
    )


def write_records(frame: pl.DataFrame) -> int:
    if connection.vendor == "postgresql":
        # In the order of the unique (enterprise, period, item, facility) index: B-tree inserts then touch
        # neighbouring pages of PostgreSQL's (small by default) buffer cache instead of random ones.
        frame = frame.sort(["enterprise_id", "period", "item", "facility"])
    return bulk.insert_frame(ActivityRecord._meta.db_table, frame, empty_is_text=TEXT_COLUMNS)
