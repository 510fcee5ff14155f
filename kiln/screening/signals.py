"""Screen every import once it has committed (intake emits no signal of its own, so the batch row's save is the hook).

The batch row is created first inside the import's transaction and its records after it; the
receiver only schedules the screening with ``transaction.on_commit``, so it sees the records, and a
rolled-back import schedules nothing. ``KILN_SCREEN_AFTER_IMPORT = False`` turns the hook off.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from kiln.intake.models import ImportBatch

logger = logging.getLogger("kiln.screening")


@receiver(post_save, sender=ImportBatch, dispatch_uid="kiln.screening.after_import")
def screen_after_import(sender, instance: ImportBatch, created: bool, **kwargs) -> None:
    if not created or instance.status != ImportBatch.Status.IMPORTED or instance.dry_run:
        return
    if not getattr(settings, "KILN_SCREEN_AFTER_IMPORT", True):
        return
    if instance.door == ImportBatch.Door.DEMO:
        return  # the demo loads years at once; the nightly run or `kiln screen` covers it
    batch_id = instance.pk

    def enqueue() -> None:
        from kiln.screening.tasks import screen_import

        try:
            screen_import(batch_id)
        except Exception:  # a screening failure must never fail the import that triggered it
            logger.exception("screening after import batch=%s failed", batch_id)

    transaction.on_commit(enqueue)
