"""``flush`` that may also empty Kiln's append-only tables (audit log, ledger), outside production.

Django's ``flush`` (and pytest-django's ``transactional_db`` / ``live_server`` teardown, which
calls it) deletes every row of every table; on SQLite the append-only triggers would refuse.
Wiping the whole database is a deliberate act, so outside production both guards are lifted for
it and put back after. In production they stay, and ``flush`` fails on a non-empty log.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections

from kiln.audit.db import purge_allowed
from kiln.ledger import triggers


class Command(flush.Command):
    def handle(self, **options):
        if getattr(settings, "PRODUCTION", False):
            return super().handle(**options)
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        ledger_present = set(triggers.PROTECTED_TABLES) <= set(connection.introspection.table_names())
        with purge_allowed():
            if not ledger_present:
                return super().handle(**options)
            triggers.remove(connection)
            try:
                return super().handle(**options)
            finally:
                triggers.install(connection)
