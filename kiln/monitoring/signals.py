"""Digest every new calculation run once its transaction has committed (its aggregates exist then)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from kiln.accounting.models import CalculationRun

logger = logging.getLogger("kiln.monitoring")


@receiver(post_save, sender=CalculationRun, dispatch_uid="kiln.monitoring.digest_new_run")
def digest_new_run(sender, instance: CalculationRun, created: bool, **kwargs) -> None:
    if not created or kwargs.get("raw"):
        return
    run_id = instance.pk

    def digest() -> None:
        from kiln.monitoring import digest as digests

        try:
            digests.ensure(CalculationRun.objects.get(pk=run_id))
        except Exception:  # the run is stored; pages digest it lazily if this failed
            logger.exception("could not digest calculation run %s", run_id)

    transaction.on_commit(digest)
