"""Scheduled supervision work (huey). Tasks only wrap services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kiln.review import deadlines


@db_periodic_task(crontab(hour="8", minute="0"))
def deadline_reminders() -> int:
    """Every morning: reminders N days before each deadline and on the day; returns how many were sent."""
    return deadlines.send_reminders()
