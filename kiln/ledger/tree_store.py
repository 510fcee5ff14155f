"""The tree as stored: leaf hashes in ``LedgerEntry`` rows, stride-level nodes in ``LedgerNode``.

Raw SQL on purpose: a proof reads a handful of short index ranges, and the ORM's per-query
overhead would be most of the proof's cost.
"""

from __future__ import annotations

from django.db import connection

from kiln.ledger.models import LedgerEntry, LedgerNode


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class DatabaseNodes:
    """A :class:`kiln.ledger.merkle.NodeReader` over the ledger tables."""

    def nodes(self, level: int, begin: int, end: int) -> bytes:
        index = connection.ops.quote_name("index")
        with connection.cursor() as cursor:
            if level == 0:
                cursor.execute(
                    f"SELECT leaf_hash FROM {_table(LedgerEntry)} "  # noqa: S608 - identifiers only
                    f"WHERE {index} >= %s AND {index} < %s ORDER BY {index}",
                    [begin, end],
                )
            else:
                cursor.execute(
                    f"SELECT hash FROM {_table(LedgerNode)} "  # noqa: S608 - identifiers only
                    f"WHERE level = %s AND {index} >= %s AND {index} < %s ORDER BY {index}",
                    [level, begin, end],
                )
            return b"".join(bytes(row[0]) for row in cursor.fetchall())


def insert_entries(rows: list[tuple]) -> None:
    """Insert ``(index, kind, reference, leaf_hash, payload, created)`` rows in one statement batch."""
    columns = ", ".join(
        connection.ops.quote_name(c)
        for c in ("index", "kind", "reference", "leaf_hash", "payload", "created")
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_table(LedgerEntry)} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608
            rows,
        )


def insert_nodes(nodes: list[tuple[int, int, bytes]]) -> None:
    if not nodes:
        return
    index = connection.ops.quote_name("index")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_table(LedgerNode)} (level, {index}, hash) VALUES (%s, %s, %s)",  # noqa: S608
            nodes,
        )
