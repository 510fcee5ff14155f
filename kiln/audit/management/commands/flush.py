"""``flush`` (empty every table) that may also empty the append-only audit log.

Wiping the whole database is the one operation allowed to remove audit rows (the test runner
uses it between transactional tests). The evidence ledger still holds their hashes.
"""

from django.core.management.commands.flush import Command as FlushCommand

from kiln.audit.db import purge_allowed


class Command(FlushCommand):
    def handle(self, **options):
        with purge_allowed():
            return super().handle(**options)
