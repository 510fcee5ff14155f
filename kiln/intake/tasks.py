"""Scheduled intake work (huey). Tasks only wrap services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kiln.intake import sqlsource


@db_periodic_task(crontab(minute="*/15"))
def sync_sql_sources() -> int:
    """Pull every enabled external database; returns how many batches were imported."""
    return sum(1 for result in sqlsource.sync_enabled() if result is not None and result.ok)
