"""Bulk inserts of a Polars frame into one table, inside the caller's transaction.

PostgreSQL gets ``COPY`` fed with CSV written by Polars. SQLite gets multi-row ``INSERT``
statements: binding one statement of 500 rows instead of stepping 500 single-row statements
halves the time per row, and columns that hold one value for the whole frame (the batch, the
version of a first import) are bound once per statement instead of once per row. Rows are never
built one Python object at a time; each chunk goes from column lists to one flat parameter list.

A failure half-way raises inside the caller's transaction, so nothing of the frame is left behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from functools import lru_cache

import polars as pl
from django.db import connection

CHUNK_ROWS = 50_000
ROWS_PER_STATEMENT = 500  # fewer when the driver's bound-parameter limit is lower
SQLITE_CACHE_KIB = 256 * 1024


def write_chunk(write: Callable[[pl.DataFrame], None], chunk: pl.DataFrame) -> None:
    """Write one chunk. A seam of its own so tests can make the writer fail half-way."""
    write(chunk)


def insert_frame(table: str, frame: pl.DataFrame, *, empty_is_text: Sequence[str] = ()) -> int:
    """Insert every row of ``frame`` (its columns named and ordered as the table's) into ``table``.

    ``empty_is_text``: text columns where an empty value is "" and not NULL (PostgreSQL's CSV
    reading would otherwise take an empty unquoted field for NULL).
    """
    if frame.height == 0:
        return 0
    if connection.vendor == "postgresql":
        _copy(table, frame, empty_is_text)
    else:
        _insert_sqlite(table, frame)
    return frame.height


def _chunks(frame: pl.DataFrame):
    for start in range(0, frame.height, CHUNK_ROWS):
        yield frame.slice(start, CHUNK_ROWS)


def _copy(table: str, frame: pl.DataFrame, empty_is_text: Sequence[str]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in frame.columns)
    options = "FORMAT csv"
    if empty_is_text:
        options += f", FORCE_NOT_NULL ({', '.join(quote(c) for c in empty_is_text)})"
    statement = f"COPY {quote(table)} ({names}) FROM STDIN ({options})"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:

        def write(chunk: pl.DataFrame) -> None:
            copy.write(chunk.write_csv(include_header=False))

        for chunk in _chunks(frame):
            write_chunk(write, chunk)


def _insert_sqlite(table: str, frame: pl.DataFrame) -> None:
    constant = [c for c in frame.columns if frame.height > 1 and frame.get_column(c).n_unique() == 1]
    if len(constant) == len(frame.columns):
        constant = []
    varying = [c for c in frame.columns if c not in constant]
    constants = [frame.get_column(c)[0] for c in constant]
    width = len(varying)
    # Straight to the driver: Django's cursor would rewrite every statement's thousands of "%s".
    connection.ensure_connection()
    raw = connection.connection
    limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    step = max(1, min(ROWS_PER_STATEMENT, (limit - len(constant)) // width)) * width
    previous = raw.execute("PRAGMA cache_size").fetchone()[0]
    # SQLite's default page cache is 2 MB; a million-row load into several indexes needs far more to
    # avoid re-reading index pages. Raised for this connection while the load runs.
    raw.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
    try:

        def write(chunk: pl.DataFrame) -> None:
            flat: list = [None] * (chunk.height * width)
            for offset, name in enumerate(varying):
                flat[offset::width] = chunk.get_column(name).to_list()
            for start in range(0, len(flat), step):
                values = flat[start : start + step]
                raw.execute(
                    _statement(table, tuple(constant), tuple(varying), len(values) // width),
                    constants + values,
                )

        for chunk in _chunks(frame):
            write_chunk(write, chunk)
    finally:
        raw.execute(f"PRAGMA cache_size = {int(previous)}")


@lru_cache(maxsize=32)
def _statement(table: str, constant: tuple[str, ...], varying: tuple[str, ...], rows: int) -> str:
    """``INSERT … VALUES (…), (…)`` for ``rows`` rows: constants are ``?1 … ?k`` in every row."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in (*constant, *varying))
    fixed = [f"?{i + 1}" for i in range(len(constant))]
    number = len(constant)
    tuples = []
    for _ in range(rows):
        placeholders = [f"?{number + i + 1}" for i in range(len(varying))]
        number += len(varying)
        tuples.append("(" + ", ".join(fixed + placeholders) + ")")
    return f"INSERT INTO {quote(table)} ({names}) VALUES {', '.join(tuples)}"  # noqa: S608 - names are quoted
