"""Monthly evidence deposit deadlines (月度存证): within N days after the month ends (domain.md §3.1).

``KILN_DEPOSIT_DEADLINE_DAYS`` (default 40) sets N. An enterprise-month is *not due* until
its month has ended, *due* until the deadline, then *overdue*; once evidence is deposited
it is *on time* or *late* by the date of its first deposit (local time).
"""

from __future__ import annotations

import calendar
import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DepositStatus(models.TextChoices):
    NOT_DUE = "not_due", _("not due")
    DUE = "due", _("due")
    ON_TIME = "on_time", _("deposited on time")
    LATE = "late", _("deposited late")
    OVERDUE = "overdue", _("overdue")


def deadline_days() -> int:
    return int(getattr(settings, "KILN_DEPOSIT_DEADLINE_DAYS", 40))


def month_end(period: str) -> datetime.date:
    year, month = int(period[:4]), int(period[5:7])
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def deadline(period: str) -> datetime.date:
    """The last day on which the month's evidence counts as deposited on time."""
    return month_end(period) + datetime.timedelta(days=deadline_days())


def status(
    period: str, first_deposit_at: datetime.datetime | None, today: datetime.date | None = None
) -> str:
    if first_deposit_at is not None:
        deposited = timezone.localtime(first_deposit_at).date()
        return DepositStatus.ON_TIME if deposited <= deadline(period) else DepositStatus.LATE
    today = today or timezone.localdate()
    if today <= month_end(period):
        return DepositStatus.NOT_DUE
    return DepositStatus.DUE if today <= deadline(period) else DepositStatus.OVERDUE


def periods_between(first: str, last: str) -> list[str]:
    """Every YYYY-MM from ``first`` to ``last`` inclusive."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def shift(period: str, months: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def last_overdue_period(today: datetime.date | None = None) -> str:
    """The latest month whose deadline has passed."""
    today = today or timezone.localdate()
    period = f"{today.year:04d}-{today.month:02d}"
    while deadline(period) >= today:
        period = shift(period, -1)
    return period
