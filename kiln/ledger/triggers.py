"""Database triggers that make the ledger tables append-only.

They stop accidental or careless writes (an ORM ``update()``, an admin action, a
migration gone wrong) with an error. They do not stop someone with disk or superuser
access: that person can drop them, which is why the Merkle log and its signed tree heads
exist and ``kiln ledger verify`` finds what such a person changed.

To alter rows on purpose (tamper tests, a forensic copy), suspend them:

    with suspended(connection):
        cursor.execute("UPDATE ledger_ledgerentry SET ...")

SQLite and PostgreSQL DDL is transactional, so inside a test's transaction the drop is
rolled back with everything else. By hand: ``DROP TRIGGER ledger_ledgerentry_no_update``
(SQLite) or ``ALTER TABLE ledger_ledgerentry DISABLE TRIGGER USER`` (PostgreSQL).

Row triggers also fire on ``kiln flush`` (and pytest-django's ``transactional_db``
teardown) when ledger rows exist: such tests must delete their ledger rows inside
``suspended()`` or use the ``db`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

PROTECTED_TABLES = ("ledger_ledgerentry", "ledger_signedtreehead")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION kiln_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'kiln ledger: % on % refused, the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
"""


def install_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {op.upper()} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'kiln ledger: {op} on {table} refused, the table is append-only'); END"
            for table in PROTECTED_TABLES
            for op in ("update", "delete")
        ]
    if vendor == "postgresql":
        return [_PG_FUNCTION] + [
            # OR REPLACE (PostgreSQL 14+): installing twice is harmless, as on SQLite.
            f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION kiln_ledger_append_only()"
            for table in PROTECTED_TABLES
        ]
    return []


def remove_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{op}"
            for table in PROTECTED_TABLES
            for op in ("update", "delete")
        ]
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in PROTECTED_TABLES] + [
            "DROP FUNCTION IF EXISTS kiln_ledger_append_only()"
        ]
    return []


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in install_sql(connection.vendor):
            cursor.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for sql in remove_sql(connection.vendor):
            cursor.execute(sql)


@contextmanager
def suspended(connection) -> Iterator[None]:
    """Lift the append-only guard for the duration of the block, then put it back."""
    remove(connection)
    try:
        yield
    finally:
        install(connection)
