"""Deadlines per report type, working days, extensions, reminders (in-app and e-mail), overdue lists."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from kiln.notifications.models import Notification
from kiln.registry.models import Enterprise
from kiln.review import deadlines, services
from kiln.review.models import DeadlineKind, DeadlinePolicy, Holiday
from tests.review.conftest import YEAR, m
from tests.review.helpers import opened, submitted
from tests.review.test_workflow import refused

pytestmark = pytest.mark.django_db
D = datetime.date


def test_monthly_deposit_default_is_40_calendar_days(db):
    assert deadlines.due_date(DeadlineKind.MONTHLY_DEPOSIT, "2024-03") == D(2024, 5, 10)


def test_annual_report_on_a_fixed_day_moved_past_weekends_and_holidays(db):
    # 31 March 2024 was a Sunday: the deadline moves to Monday 1 April
    assert deadlines.due_date(DeadlineKind.ANNUAL_REPORT, "2023") == D(2024, 4, 1)
    Holiday.objects.create(date=D(2024, 4, 1), name="test holiday")
    assert deadlines.due_date(DeadlineKind.ANNUAL_REPORT, "2023") == D(2024, 4, 2)


def test_working_days_and_make_up_days(db):
    DeadlinePolicy.objects.create(
        kind=DeadlineKind.MONTHLY_REPORT, days=5, working_days=True, roll_forward=True
    )
    # month end Fri 2024-05-31 → Mon 3, Tue 4, Wed 5, Thu 6, Fri 7 June
    assert deadlines.due_date(DeadlineKind.MONTHLY_REPORT, "2024-05") == D(2024, 6, 7)
    Holiday.objects.create(date=D(2024, 6, 4), name="holiday")
    Holiday.objects.create(date=D(2024, 6, 1), name="make-up Saturday", workday=True)
    # Sat 1 (worked), Mon 3, Wed 5, Thu 6, Fri 7
    assert deadlines.due_date(DeadlineKind.MONTHLY_REPORT, "2024-05") == D(2024, 6, 7)
    Holiday.objects.create(date=D(2024, 6, 6), name="another holiday")
    assert deadlines.due_date(DeadlineKind.MONTHLY_REPORT, "2024-05") == D(2024, 6, 10)


def test_extension_before_the_deadline_is_granted_after_it_refused(reviewers):
    w = reviewers
    sub = opened(w)
    due = deadlines.deadline_of(sub)
    before = due - datetime.timedelta(days=3)
    refused(
        "REV-EXTENSION-NOT-LATER",
        services.request_extension,
        sub,
        due,
        "x",
        actor=w.e1_staff,
        membership=m(w.e1_staff),
        today=before,
    )
    item = services.request_extension(
        sub,
        due + datetime.timedelta(days=14),
        "Lab report delayed.",
        actor=w.e1_staff,
        membership=m(w.e1_staff),
        today=before,
    )
    refused(
        "REV-EXTENSION-PENDING",
        services.request_extension,
        sub,
        due + datetime.timedelta(days=20),
        "again",
        actor=w.e1_staff,
        membership=m(w.e1_staff),
        today=before,
    )
    refused("REV-NOT-YOUR-ROLE", services.decide_extension, item, True, actor=w.gov_b, membership=m(w.gov_b))
    services.decide_extension(item, True, "Fine.", actor=w.gov_a, membership=m(w.gov_a))
    sub.refresh_from_db()
    assert deadlines.deadline_of(sub) == due + datetime.timedelta(days=14)
    refused(
        "REV-EXTENSION-DECIDED", services.decide_extension, item, False, actor=w.gov_a, membership=m(w.gov_a)
    )
    # after the (extended) deadline: refused, nothing changes
    late = deadlines.deadline_of(sub) + datetime.timedelta(days=1)
    revision = sub.version
    error = refused(
        "REV-DEADLINE-PASSED",
        services.request_extension,
        sub,
        late + datetime.timedelta(days=30),
        "too late",
        actor=w.e1_staff,
        membership=m(w.e1_staff),
        today=late,
    )
    assert deadlines.deadline_of(sub).isoformat() in error.message
    sub.refresh_from_db()
    assert sub.version == revision and sub.extension_requests.count() == 1


def test_reminders_before_and_on_the_deadline_once_each(reviewers, settings):
    w = reviewers
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    type(w.e1_staff).objects.filter(pk=w.e1_staff.pk).update(email="e1@example.com")
    due = deadlines.due_date(DeadlineKind.ANNUAL_REPORT, str(YEAR))
    week_before = due - datetime.timedelta(days=7)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda fn, using=None, robust=False: fn())
        assert deadlines.send_reminders(week_before) >= 1
        assert deadlines.send_reminders(week_before) == 0  # idempotent
        assert deadlines.send_reminders(due) >= 1
        assert deadlines.send_reminders(due - datetime.timedelta(days=5)) == 0  # not a reminder day
    notes = Notification.objects.filter(user=w.e1_staff, kind="deadline")
    assert notes.count() == 2
    assert any(m.to == ["e1@example.com"] for m in mail.outbox)
    # once submitted, no more reminders
    submitted(w)
    assert deadlines.send_reminders(due - datetime.timedelta(days=1)) == 0


def test_overdue_lists_per_region(reviewers):
    w = reviewers
    due = deadlines.due_date(DeadlineKind.ANNUAL_REPORT, str(YEAR))
    late = deadlines.overdue(Enterprise.objects.all(), due + datetime.timedelta(days=3))
    annual = [o for o in late if o.kind == DeadlineKind.ANNUAL_REPORT]
    assert [o.enterprise for o in annual] == [w.e1]  # E2 reported nothing
    assert annual[0].period == str(YEAR)
    Enterprise.objects.filter(pk=w.e1.pk).update(key_emitter=True)
    late = deadlines.overdue(Enterprise.objects.all(), D(YEAR + 1, 4, 20))
    assert any(o.kind == DeadlineKind.MONTHLY_DEPOSIT for o in late)
