"""Scheduled and background screening (huey). Tasks only wrap services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kiln.screening import services
from kiln.screening.models import ScreeningRun

NIGHTLY_MONTHS = 3  # late corrections reach back a few months


@db_periodic_task(crontab(hour="2", minute="30"))
def screen_nightly() -> int | None:
    """Every night: the last three complete months, the whole platform."""
    first, last = services.last_months(NIGHTLY_MONTHS)
    run = services.run_screening(actor=None, trigger=ScreeningRun.Trigger.NIGHTLY, first=first, last=last)
    return run.pk


@db_task()
def screen_import(batch_id: int) -> int | None:
    """After an import commits: the enterprise-months it brought in."""
    run = services.screen_batch(batch_id)
    return run.pk if run else None
