"""Database-side protection of the audit log.

Triggers (installed by migration 0002) refuse UPDATE and DELETE on audit rows, on SQLite and
PostgreSQL. On SQLite the trigger consults ``kiln_audit_purge_allowed()``, a function Kiln
registers on each of its own connections; it answers 0 except inside ``purge_allowed()``, which
only the ``flush`` command (wipe the whole database) uses. A connection that is not Kiln's (the
sqlite3 shell) has no such function, so its UPDATE or DELETE fails as well.
PostgreSQL's flush uses TRUNCATE, which row triggers do not see.

Kiln's ``flush`` command (kiln/web/management/commands/flush.py) lifts this guard and the
ledger's together, outside production.
"""

from __future__ import annotations

import contextlib
import threading

from django.db.backends.signals import connection_created

_state = threading.local()

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
       WHEN NOT kiln_audit_purge_allowed()
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
       WHEN NOT kiln_audit_purge_allowed()
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]
POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only'; END;
       $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]


def _purge_allowed() -> int:
    return 1 if getattr(_state, "purge", False) else 0


@contextlib.contextmanager
def purge_allowed():
    """Let this thread's SQLite connections delete audit rows: only for wiping the whole database."""
    previous = getattr(_state, "purge", False)
    _state.purge = True
    try:
        yield
    finally:
        _state.purge = previous


def _register(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "kiln_audit_purge_allowed", 0, _purge_allowed, deterministic=False
        )


def connect() -> None:
    connection_created.connect(_register, dispatch_uid="kiln.audit.db.register")


def install_triggers(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        # Migrations may run on a connection opened before the app registry was ready.
        _register(None, schema_editor.connection)
        statements = SQLITE_TRIGGERS
    elif vendor == "postgresql":
        statements = POSTGRES_TRIGGERS
    else:
        return
    for sql in statements:
        schema_editor.execute(sql)


def remove_triggers(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)
