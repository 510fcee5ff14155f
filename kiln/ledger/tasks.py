"""Scheduled ledger work; each task only wraps a service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kiln.ledger import services


@db_periodic_task(crontab(minute="*/10"))
def sign_tree_head_when_grown() -> int | None:
    """Checkpoint the log every ten minutes if it grew; returns the signed size."""
    head = services.sign_tree_head_if_grown()
    return head.tree_size if head else None
