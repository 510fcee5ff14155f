"""Bulk writes of activity records: PostgreSQL ``COPY`` (psycopg 3), SQLite ``executemany`` in chunks.

Both run inside the caller's transaction, so a failure half-way leaves nothing behind.
Rows are never built one Python object at a time: PostgreSQL gets CSV written by Polars,
SQLite gets tuples straight from the frame.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from django.db import connection

from kiln.intake.models import ActivityRecord
from kiln.intake.sql_lists import values_subquery

CHUNK_ROWS = 50_000
SQLITE_CACHE_KIB = 256 * 1024
COLUMNS = (
    "enterprise_id",
    "period",
    "item",
    "quantity",
    "unit",
    "canonical_quantity",
    "source",
    "facility",
    "note",
    "batch_id",
    "version",
    "current",
    "reason",
)
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


def write_chunk(write: Callable[[pl.DataFrame], None], chunk: pl.DataFrame) -> None:
    """Write one chunk. A seam of its own so tests can make the writer fail half-way."""
    write(chunk)


def write_records(frame: pl.DataFrame) -> int:
    if frame.height == 0:
        return 0
    if connection.vendor == "postgresql":
        # In the order of the unique (enterprise, period, item, facility) index: B-tree inserts then touch
        # neighbouring pages of PostgreSQL's (small by default) buffer cache instead of random ones.
        _copy(frame.sort(["enterprise_id", "period", "item", "facility"]))
    else:
        _executemany(frame)
    return frame.height


def _chunks(frame: pl.DataFrame):
    for start in range(0, frame.height, CHUNK_ROWS):
        yield frame.slice(start, CHUNK_ROWS)


def _copy(frame: pl.DataFrame) -> None:
    table = connection.ops.quote_name(ActivityRecord._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    # Empty unquoted CSV fields would be NULL; these columns are NOT NULL text, so read them as "".
    not_null = ", ".join(connection.ops.quote_name(c) for c in TEXT_COLUMNS)
    statement = f"COPY {table} ({names}) FROM STDIN (FORMAT csv, FORCE_NOT_NULL ({not_null}))"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:

        def write(chunk: pl.DataFrame) -> None:
            copy.write(chunk.write_csv(include_header=False))

        for chunk in _chunks(frame):
            write_chunk(write, chunk)


def _executemany(frame: pl.DataFrame) -> None:
    table = connection.ops.quote_name(ActivityRecord._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    statement = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"  # noqa: S608
    with connection.cursor() as cursor:
        # SQLite's default page cache is 2 MB; a million-row load into three indexes needs far more to avoid
        # re-reading index pages. Raised for this connection while the load runs.
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
        try:

            def write(chunk: pl.DataFrame) -> None:
                # Column lists zipped into tuples: several times faster than DataFrame.rows().
                rows = list(zip(*(chunk.get_column(c).to_list() for c in COLUMNS), strict=True))
                cursor.executemany(statement, rows)

            for chunk in _chunks(frame):
                write_chunk(write, chunk)
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")
