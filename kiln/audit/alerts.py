"""Alert detection over the audit log: brute force and mass export.

Both are aggregate queries over a time window (the database does the counting); the analysis
page shows their results and ``kiln audit alerts`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent


@dataclass(frozen=True)
class Alert:
    code: str
    subject: str
    count: int
    first: datetime
    last: datetime

    @property
    def title(self) -> str:
        return str(ALERT_TITLES.get(self.code, self.code))


ALERT_TITLES = {
    "KLN-AUD-ALERT-001": _("Brute force: many failed logins for one account"),
    "KLN-AUD-ALERT-002": _("Brute force: many failed logins from one address"),
    "KLN-AUD-ALERT-003": _("Mass export: many exports by one user"),
}


def brute_force(
    events: QuerySet[AuditEvent],
    *,
    since: datetime | None = None,
    window: timedelta | None = None,
    threshold: int | None = None,
) -> list[Alert]:
    """Accounts and IP addresses with at least ``threshold`` failed logins in the window."""
    window = window or timedelta(minutes=settings.KILN_AUDIT_BRUTE_FORCE_MINUTES)
    threshold = threshold or settings.AXES_FAILURE_LIMIT
    since = since or timezone.now() - window
    failed = events.filter(event_type=EventType.LOGIN_FAILED, time__gte=since)
    alerts = []
    by_account = (
        failed.annotate(username=KT("after__username"))
        .values("username")
        .annotate(n=Count("id"), first=Min("time"), last=Max("time"))
        .filter(n__gte=threshold)
        .order_by("-n")
    )
    alerts += [
        Alert("KLN-AUD-ALERT-001", r["username"] or "?", r["n"], r["first"], r["last"]) for r in by_account
    ]
    by_ip = (
        failed.exclude(ip__isnull=True)
        .values("ip")
        .annotate(n=Count("id"), first=Min("time"), last=Max("time"))
        .filter(n__gte=threshold * 2)
        .order_by("-n")
    )
    alerts += [Alert("KLN-AUD-ALERT-002", str(r["ip"]), r["n"], r["first"], r["last"]) for r in by_ip]
    return alerts


def mass_export(
    events: QuerySet[AuditEvent],
    *,
    since: datetime | None = None,
    window: timedelta | None = None,
    threshold: int | None = None,
) -> list[Alert]:
    """Users who exported at least ``threshold`` times in the window."""
    window = window or timedelta(minutes=settings.KILN_AUDIT_MASS_EXPORT_MINUTES)
    threshold = threshold or settings.KILN_AUDIT_MASS_EXPORT_COUNT
    since = since or timezone.now() - window
    rows = (
        events.filter(event_type__gte=400, event_type__lt=500, time__gte=since)
        .values("actor_label")
        .annotate(n=Count("id"), first=Min("time"), last=Max("time"))
        .filter(n__gte=threshold)
        .order_by("-n")
    )
    return [Alert("KLN-AUD-ALERT-003", r["actor_label"] or "?", r["n"], r["first"], r["last"]) for r in rows]


def detect(events: QuerySet[AuditEvent]) -> list[Alert]:
    return brute_force(events) + mass_export(events)
