"""``flush`` that can also empty the append-only ledger tables, outside production.

Django's ``flush`` (and pytest-django's ``transactional_db`` / ``live_server`` teardown, which
calls it) deletes every row of every table; on SQLite the ledger's row triggers would refuse.
Wiping the whole database is a deliberate act, so outside production the triggers are lifted
for it and put back after. In production they stay and ``flush`` fails on a non-empty ledger.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections

from kiln.ledger import triggers


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        present = set(triggers.PROTECTED_TABLES) <= set(connection.introspection.table_names())
        if getattr(settings, "PRODUCTION", False) or not present:
            return super().handle(**options)
        triggers.remove(connection)
        try:
            return super().handle(**options)
        finally:
            triggers.install(connection)
