"""The external-database door (the standard's 中间库): pull new rows, feed them to the same pipeline.

Connections are read-only: SQLite files are opened with ``mode=ro``; PostgreSQL sessions
run ``SET TRANSACTION READ ONLY`` before anything else and always roll back. Only rows whose
watermark column is above the last imported value are pulled, in watermark order, at most
``max_rows`` per sync. The watermark advances only when the batch was imported, so a
rejected pull is retried (and rejected again) until the source is fixed.
"""

from __future__ import annotations

import datetime
import decimal
import logging
import re
import sqlite3
from urllib.parse import quote, unquote, urlsplit

import polars as pl
import psycopg
from django.utils import timezone

from kiln.intake import secrets
from kiln.intake.models import ImportBatch, SqlSource
from kiln.intake.services import ImportResult, import_activity

logger = logging.getLogger("kiln.intake.sql")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
STATEMENT_TIMEOUT_MS = 120_000


class SourceError(Exception):
    """The source cannot be read (bad URL, unreachable, bad query); the message never holds the password."""


def check_identifier(name: str) -> str:
    if not IDENTIFIER.match(name or ""):
        raise SourceError(f"not a plain column or table name: {name!r}")
    return name


def _quoted(name: str) -> str:
    return ".".join(f'"{part}"' for part in check_identifier(name).split("."))


def check_query(query: str) -> str:
    """A single SELECT (or WITH … SELECT); the connection is read-only anyway, this is for clear errors."""
    text = query.strip().rstrip(";").strip()
    if ";" in text or not re.match(r"^(select|with)\b", text, re.I):
        raise SourceError("the query must be a single SELECT statement")
    return text


def _statement(source: SqlSource, placeholder: str) -> tuple[str, bool]:
    """The SELECT to run and whether it takes the watermark parameter."""
    origin = (
        f"({check_query(source.query)}) AS kiln_source" if source.query.strip() else _quoted(source.table)
    )
    mark = _quoted(source.watermark_column)
    where = f" WHERE {mark} > {placeholder}" if source.last_watermark else ""
    limit = int(source.max_rows) + 1
    return f"SELECT * FROM {origin}{where} ORDER BY {mark} LIMIT {limit}", bool(source.last_watermark)  # noqa: S608


def _parameter(watermark: str):
    # Integer watermarks (ids) compare as numbers; others (timestamps) as the database reads the text.
    return int(watermark) if re.fullmatch(r"-?\d{1,18}", watermark) else watermark


def fetch(url: str, source: SqlSource) -> tuple[list[str], list[tuple]]:
    """Column names and rows from the source, over a read-only connection."""
    parts = urlsplit(url)
    try:
        if parts.scheme == "sqlite":
            return _fetch_sqlite(parts, source)
        if parts.scheme in ("postgres", "postgresql"):
            return _fetch_postgres(url, source)
    except (sqlite3.Error, psycopg.Error) as exc:
        raise SourceError(
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        ) from exc
    raise SourceError(f"unsupported database URL scheme {parts.scheme!r} (use sqlite:// or postgres://)")


def _fetch_sqlite(parts, source: SqlSource) -> tuple[list[str], list[tuple]]:
    # As dj-database-url reads them: sqlite:////abs/file.db is absolute, sqlite:///file.db relative.
    path = unquote(parts.path)[1:]
    connection = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=10)
    try:
        statement, with_mark = _statement(source, "?")
        cursor = connection.execute(statement, [_parameter(source.last_watermark)] if with_mark else [])
        names = [d[0] for d in cursor.description]
        return names, cursor.fetchall()
    finally:
        connection.close()


def _fetch_postgres(url: str, source: SqlSource) -> tuple[list[str], list[tuple]]:
    with psycopg.connect(url, connect_timeout=10, autocommit=False) as connection:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
                cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
                statement, with_mark = _statement(source, "%s")
                cursor.execute(statement, [_parameter(source.last_watermark)] if with_mark else [])
                names = [d.name for d in cursor.description or []]
                return names, cursor.fetchall()
        finally:
            connection.rollback()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def pull(source: SqlSource) -> tuple[pl.DataFrame, str | None]:
    """New rows as a frame of strings (columns renamed per the mapping) and the watermark they reach."""
    names, rows = fetch(secrets.decrypt(source.url_encrypted), source)
    if not names or not rows:
        return pl.DataFrame(), None
    if source.watermark_column not in names:
        raise SourceError(f"the result has no watermark column {source.watermark_column!r}")
    mark = names.index(source.watermark_column)
    if len(rows) > source.max_rows:
        # Cut at the limit, but never between rows sharing a watermark: the next sync starts above it.
        rows = rows[: source.max_rows]
        boundary = rows[-1][mark]
        trimmed = [r for r in rows if r[mark] != boundary]
        rows = trimmed or rows
    renames = {column: key for key, column in (source.column_map or {}).items() if column in names}
    frame = pl.DataFrame(
        {
            renames.get(name, name): pl.Series([_text(r[i]) for r in rows], dtype=pl.String)
            for i, name in enumerate(names)
        },
    )
    return frame, _text(rows[-1][mark])


def sync(source: SqlSource) -> ImportResult | None:
    """Pull and import one source; records the outcome on the source. Never raises for source problems."""
    now = timezone.now()
    try:
        frame, watermark = pull(source)
    except (SourceError, ValueError) as exc:
        _finish(source, now, f"error: {exc}"[:200])
        logger.warning("sql source %s: %s", source.name, exc)
        return None
    if frame.height == 0:
        _finish(source, now, "no new rows")
        return None
    membership = source.acting_as
    result = import_activity(
        frame,
        actor=membership.user if membership else None,
        membership=membership,
        door=ImportBatch.Door.SQL,
        correction_reason=f"re-sent by external database {source.name}" if source.corrections else None,
        file_name=f"{source.name}.csv",
        sql_source=source,
    )
    if result.ok and watermark is not None:
        source.last_watermark = watermark[:100]
    outcome = (
        f"imported {result.imported} rows (batch {result.batch_id})"
        if result.ok
        else (f"rejected: {result.error_count} errors (batch {result.batch_id})")
    )
    _finish(source, now, outcome)
    return result


def _finish(source: SqlSource, now, status: str) -> None:
    source.last_synced_at = now
    source.last_status = status
    source.save(update_fields=["last_synced_at", "last_status", "last_watermark"])


def sync_enabled() -> list[ImportResult | None]:
    return [
        sync(source) for source in SqlSource.objects.filter(enabled=True).select_related("acting_as__user")
    ]
