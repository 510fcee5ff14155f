"""Scheduled and background operations work; each task only wraps a service."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kiln.ops import services
from kiln.ops.checks import parse_time


def nightly_time_utc(local: str, time_zone: str, *, today: dt.date | None = None) -> tuple[int, int]:
    """``KILN_BACKUP_AT`` ("HH:MM" in TIME_ZONE) as the UTC hour and minute huey's clock runs on.

    An unreadable value means 02:00 (``kiln check`` reports it as kiln_ops.E001)."""
    hour, minute = parse_time(local) or (2, 0)
    when = dt.datetime.combine(today or dt.date.today(), dt.time(hour, minute), zoneinfo.ZoneInfo(time_zone))
    utc = when.astimezone(dt.UTC)
    return utc.hour, utc.minute


_HOUR, _MINUTE = nightly_time_utc(getattr(settings, "KILN_BACKUP_AT", "02:00"), settings.TIME_ZONE)


@db_periodic_task(crontab(hour=str(_HOUR), minute=str(_MINUTE)))
def nightly_backup() -> str:
    """Back up every night at KILN_BACKUP_AT and keep the KILN_BACKUP_KEEP newest archives."""
    return services.scheduled_backup().name


@db_task()
def backup_now(actor_id: int) -> str:
    from kiln.accounts.models import User

    actor = User.objects.filter(pk=actor_id).first()
    return services.take_backup(actor=actor, reason="manual").name
