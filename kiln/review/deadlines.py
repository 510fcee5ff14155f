"""Deadlines per report type, aware of working days, and the reminders and overdue lists built on them.

A ``DeadlinePolicy`` per kind says when something is due: N calendar (or working) days after the
period ends, or a fixed day of the following year; a deadline on a non-working day may move to the
next working day. Working days are Monday to Friday, minus the ``Holiday`` rows, plus the make-up
working days (调休, ``Holiday.workday``). Without a stored policy the defaults below apply:

=============== ============================================ =============================================
kind            default                                      why
=============== ============================================ =============================================
monthly_deposit 40 calendar days after month end, not moved  domain.md §3.1 (S14); ``KILN_DEPOSIT_DEADLINE_DAYS``
                                                             is the intake's setting of the same rule
monthly_report  40 calendar days after month end, moved      as the deposit
annual_report   31 March of the following year, moved        a configurable default: the legal date was not
                                                             read in the stored sources (domain.md)
=============== ============================================ =============================================
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kiln.intake.models import ActivityRecord, EnterpriseMonth
from kiln.notifications import services as notifications
from kiln.registry.models import Enterprise
from kiln.review.models import DeadlineKind, DeadlinePolicy, Holiday, ReportType, State, Submission

OPEN_STATES = (State.DRAFT, State.RETURNED)


def default_policy(kind: str) -> DeadlinePolicy:
    if kind == DeadlineKind.ANNUAL_REPORT:
        return DeadlinePolicy(
            kind=kind,
            anchor=DeadlinePolicy.Anchor.FIXED_DAY,
            fixed_month=3,
            fixed_day=31,
            roll_forward=True,
            reminder_days=[30, 7, 1, 0],
        )
    if kind == DeadlineKind.MONTHLY_DEPOSIT:
        days = int(getattr(settings, "KILN_DEPOSIT_DEADLINE_DAYS", 40))
        return DeadlinePolicy(kind=kind, days=days, roll_forward=False, reminder_days=[7, 3, 1, 0])
    return DeadlinePolicy(kind=kind, days=40, roll_forward=True, reminder_days=[7, 1, 0])


def policy(kind: str) -> DeadlinePolicy:
    return DeadlinePolicy.objects.filter(kind=kind).first() or default_policy(kind)


def policies() -> list[DeadlinePolicy]:
    return [policy(kind) for kind in DeadlineKind.values]


class Calendar:
    """Working days between two dates, reading the holiday table once."""

    def __init__(self, start: datetime.date, end: datetime.date):
        self.special = dict(
            Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", "workday")
        )

    def working(self, day: datetime.date) -> bool:
        if day in self.special:
            return self.special[day]
        return day.weekday() < 5

    def add_working_days(self, day: datetime.date, n: int) -> datetime.date:
        while n > 0:
            day += datetime.timedelta(days=1)
            if self.working(day):
                n -= 1
        return day

    def next_working(self, day: datetime.date) -> datetime.date:
        while not self.working(day):
            day += datetime.timedelta(days=1)
        return day


def period_end(period: str) -> datetime.date:
    year = int(period[:4])
    if len(period) == 4:
        return datetime.date(year, 12, 31)
    month = int(period[5:7])
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def due_date(kind: str, period: str, rule: DeadlinePolicy | None = None) -> datetime.date:
    rule = rule or policy(kind)
    end = period_end(period)
    cal = Calendar(end, end + datetime.timedelta(days=rule.days * 2 + 400))
    if rule.anchor == DeadlinePolicy.Anchor.FIXED_DAY:
        month, day = rule.fixed_month or 3, rule.fixed_day or 31
        due = datetime.date(end.year + 1, month, min(day, calendar.monthrange(end.year + 1, month)[1]))
    elif rule.working_days:
        due = cal.add_working_days(end, rule.days)
    else:
        due = end + datetime.timedelta(days=rule.days)
    return cal.next_working(due) if rule.roll_forward else due


def kind_of(submission: Submission) -> str:
    return (
        DeadlineKind.ANNUAL_REPORT
        if submission.report_type == ReportType.ANNUAL
        else DeadlineKind.MONTHLY_REPORT
    )


def deadline_of(submission: Submission) -> datetime.date:
    """The submission's deadline, after any granted extension."""
    return submission.deadline_extended_to or due_date(kind_of(submission), submission.period)


# --- reminders -------------------------------------------------------------------------------------------


@dataclass
class Obligation:
    enterprise: Enterprise
    kind: str
    period: str
    deadline: datetime.date
    state: str = ""

    def days_left(self, today: datetime.date) -> int:
        return (self.deadline - today).days


def _annual_obligations(enterprises: QuerySet[Enterprise], year: int) -> list[Obligation]:
    """Enterprises with data for ``year`` whose annual report is not yet submitted."""
    due = due_date(DeadlineKind.ANNUAL_REPORT, str(year))
    has_data = ActivityRecord.objects.filter(
        enterprise=OuterRef("pk"), current=True, period__startswith=f"{year}-"
    )
    done = Submission.objects.filter(
        enterprise=OuterRef("pk"), report_type=ReportType.ANNUAL, period=str(year)
    ).exclude(state__in=OPEN_STATES)
    extended = {
        s.enterprise_id: s.deadline_extended_to
        for s in Submission.objects.filter(
            report_type=ReportType.ANNUAL, period=str(year), deadline_extended_to__isnull=False
        )
    }
    states = dict(
        Submission.objects.filter(report_type=ReportType.ANNUAL, period=str(year)).values_list(
            "enterprise_id", "state"
        )
    )
    qs = enterprises.filter(Exists(has_data)).exclude(Exists(done)).select_related("region")
    return [
        Obligation(e, DeadlineKind.ANNUAL_REPORT, str(year), extended.get(e.pk) or due, states.get(e.pk, ""))
        for e in qs
    ]


def _deposit_obligations(enterprises: QuerySet[Enterprise], periods: list[str]) -> list[Obligation]:
    """Key emitters' months with nothing deposited."""
    out = []
    obliged = list(enterprises.filter(key_emitter=True).select_related("region"))
    deposited = set(
        EnterpriseMonth.objects.filter(
            enterprise__in=[e.pk for e in obliged], period__in=periods, first_deposit_at__isnull=False
        ).values_list("enterprise_id", "period")
    )
    for period in periods:
        due = due_date(DeadlineKind.MONTHLY_DEPOSIT, period)
        out += [
            Obligation(e, DeadlineKind.MONTHLY_DEPOSIT, period, due)
            for e in obliged
            if (e.pk, period) not in deposited
        ]
    return out


def _monthly_report_obligations(enterprises: QuerySet[Enterprise]) -> list[Obligation]:
    return [
        Obligation(s.enterprise, DeadlineKind.MONTHLY_REPORT, s.period, deadline_of(s), s.state)
        for s in Submission.objects.filter(
            enterprise__in=enterprises, report_type=ReportType.MONTHLY, state__in=OPEN_STATES
        ).select_related("enterprise__region")
    ]


def _recent_months(today: datetime.date, count: int) -> list[str]:
    out, year, month = [], today.year, today.month
    for _i in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(f"{year:04d}-{month:02d}")
    return sorted(out)


def obligations(enterprises: QuerySet[Enterprise], today: datetime.date, months: int = 3) -> list[Obligation]:
    return (
        _annual_obligations(enterprises, today.year - 1)
        + _deposit_obligations(enterprises, _recent_months(today, months))
        + _monthly_report_obligations(enterprises)
    )


def send_reminders(today: datetime.date | None = None) -> int:
    """Remind enterprise staff N days before each deadline (policy ``reminder_days``) and on the day."""
    today = today or timezone.localdate()
    rules = {p.kind: p for p in policies()}
    sent = 0
    labels = dict(DeadlineKind.choices)
    for item in obligations(Enterprise.objects.all(), today):
        left = item.days_left(today)
        if left not in (rules[item.kind].reminder_days or []):
            continue
        users = notifications.members_with(item.enterprise)
        if not users:
            continue
        if left == 0:
            title = _("Due today: %(what)s %(period)s") % {"what": labels[item.kind], "period": item.period}
        else:
            title = _("Due in %(days)d days: %(what)s %(period)s") % {
                "days": left,
                "what": labels[item.kind],
                "period": item.period,
            }
        url = (
            reverse("review:submissions")
            if item.kind != DeadlineKind.MONTHLY_DEPOSIT
            else reverse("intake:deposits")
        )
        created = notifications.notify(
            users,
            kind="deadline",
            key=f"deadline:{item.kind}:{item.period}:{item.enterprise.pk}:{left}",
            title=title,
            body=_("%(enterprise)s: the deadline is %(date)s.")
            % {"enterprise": item.enterprise.name, "date": item.deadline.isoformat()},
            url=url,
        )
        sent += len(created)
    return sent


def overdue(
    enterprises: QuerySet[Enterprise], today: datetime.date | None = None, months: int = 12
) -> list[Obligation]:
    """Obligations whose deadline has passed, oldest first (for the overdue lists per region)."""
    today = today or timezone.localdate()
    late = [o for o in obligations(enterprises, today, months) if o.deadline < today]
    return sorted(late, key=lambda o: (o.deadline, o.enterprise.credit_code or ""))
