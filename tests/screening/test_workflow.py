"""The finding lifecycle: every transition, and illegal or unauthorised moves refused with an audit event."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kiln.accounts.models import Membership
from kiln.accounts.roles import Role
from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent
from kiln.intake import deposits
from kiln.registry.models import GovernmentDepartment
from kiln.screening import errors, services, workflow
from kiln.screening.errors import ScreeningError
from kiln.screening.models import Finding, FindingEvent, Level, RuleVersion, ScreeningRun
from kiln.screening.workflow import ACTIONS, TRANSITIONS, Action
from tests.personas import user_with

S = Finding.Status
TODAY = datetime.date(2026, 1, 15)


@pytest.fixture
def people(world):
    province = GovernmentDepartment.objects.create(
        kind="government", name="浙江省生态环境厅", region=world.province
    )
    world.gov_p = user_with("gov_p", province, Role.GOV_REVIEWER)
    return world


def member(user) -> Membership:
    return Membership.objects.select_related("organisation", "organisation__region").get(user=user)


def make(world, *, rule_id="KLN-JUMP-002", level=Level.PROVINCE, enterprise=None) -> Finding:
    rule = RuleVersion.objects.filter(rule_id=rule_id).order_by("-version").first()
    run = ScreeningRun.objects.create(trigger="cli", first_period="2025-03", last_period="2025-03")
    finding = Finding.objects.create(
        rule_version=rule,
        rule_id=rule.rule_id,
        severity=rule.severity,
        family=rule.family,
        enterprise=enterprise or world.e1,
        period="2025-03",
        item="natural_gas",
        value=400.0,
        reference=100.0,
        score=4.0,
        fingerprint=f"{rule_id}-{level}",
        level=level,
        first_run=run,
        last_run=run,
    )
    return Finding.objects.select_related("enterprise", "enterprise__region").get(pk=finding.pk)


def move(finding, action, user, **kwargs):
    kwargs.setdefault("today", TODAY)
    return services.transition(finding, action, actor=user, membership=member(user), **kwargs)


def refused(finding, action, user, code, **kwargs):
    before = AuditEvent.objects.count()
    with pytest.raises(ScreeningError) as caught:
        move(finding, action, user, **kwargs)
    assert caught.value.code == code
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.event_type == EventType.ACTION_REFUSED
    assert event.after["refused"] is True and event.after["code"] == code and event.after["action"] == action
    assert FindingEvent.objects.filter(finding=finding, action="refused").exists()
    finding.refresh_from_db()


def test_the_tables_agree():
    for action, (sources, target) in ACTIONS.items():
        for status in sources:
            assert target in TRANSITIONS[status], (action, status)
    assert TRANSITIONS[S.CLOSED] == set()


def test_full_lifecycle_through_every_transition(people):
    w = people
    f = make(w)
    assert f.status == S.OPEN and f.level == Level.PROVINCE
    deadline = TODAY + datetime.timedelta(days=15)

    f = move(f, Action.ASSIGN, w.gov_p, assignee=w.gov_p, deadline=deadline)
    assert (f.status, f.assignee, f.deadline) == (S.ASSIGNED, w.gov_p, deadline)

    evidence = deposits.deposit(
        enterprise=w.e1,
        period="2025-03",
        kind="invoice",
        actor=w.e1_staff,
        upload=SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 gas invoice", "application/pdf"),
    )
    f = move(
        f,
        Action.ANSWER,
        w.e1_staff,
        comment="The meter was read twice; corrected.",
        answer_kind="correction",
        evidence=evidence,
    )
    assert f.status == S.ANSWERED
    f = move(f, Action.SEND_BACK, w.gov_p, comment="Attach the corrected ledger.", deadline=deadline)
    assert f.status == S.ASSIGNED
    f = move(f, Action.ANSWER, w.e1_staff, comment="Ledger attached.", answer_kind="correction")
    f = move(f, Action.ESCALATE, w.gov_p, comment="Needs an on-site check.")
    assert (f.status, f.level, f.assignee) == (S.ESCALATED, Level.CITY, None)

    # The province no longer acts on it; the city does.
    assert workflow.available_transitions(f, member(w.gov_p)) == []
    f = move(f, Action.ASSIGN, w.gov_a, assignee=w.gov_a, deadline=deadline)
    f = move(f, Action.ANSWER, w.e1_staff, comment="On-site documents ready.", answer_kind="explanation")
    f = move(f, Action.VERIFY, w.gov_a, comment="Checked on site.")
    assert f.status == S.VERIFIED
    f = move(f, Action.CLOSE, w.gov_a)
    assert f.status == S.CLOSED and f.closed_at is not None

    actions = list(f.events.exclude(action="created").values_list("action", flat=True))
    assert actions == [
        "assign",
        "answer",
        "send_back",
        "answer",
        "escalate",
        "assign",
        "answer",
        "verify",
        "close",
    ]
    assert f.events.get(action="answer", evidence__isnull=False).evidence == evidence
    updates = AuditEvent.objects.filter(target_type="screening.finding", target_id=str(f.pk))
    assert updates.count() == 9


def test_warnings_are_acknowledged_reopened_and_dismissed(people):
    w = people
    f = make(w, level=Level.CITY)
    assert Action.ACKNOWLEDGE in workflow.available_transitions(f, member(w.e1_staff))
    f = move(f, Action.ACKNOWLEDGE, w.e1_staff, comment="New kiln line started in March.")
    assert f.status == S.ACKNOWLEDGED
    f = move(f, Action.REOPEN, w.gov_a, comment="The new line is not in the permit.")
    assert f.status == S.OPEN
    f = move(f, Action.DISMISS, w.gov_a, comment="Raised in error.")
    assert f.status == S.DISMISSED


def test_illegal_and_unauthorised_moves_are_refused_and_logged(people):
    w = people
    f = make(w, level=Level.CITY)
    deadline = TODAY + datetime.timedelta(days=10)
    refused(f, Action.CLOSE, w.gov_a, errors.ILLEGAL_TRANSITION)  # open → closed is not a move
    refused(f, Action.VERIFY, w.gov_a, errors.ILLEGAL_TRANSITION)
    refused(f, Action.ANSWER, w.e2_staff, errors.NOT_ALLOWED)  # another enterprise
    refused(
        f, Action.ASSIGN, w.gov_b, errors.NOT_ALLOWED, assignee=w.gov_b, deadline=deadline
    )  # another city
    refused(
        f, Action.ASSIGN, w.gov_p, errors.NOT_ALLOWED, assignee=w.gov_p, deadline=deadline
    )  # another level
    refused(f, Action.ASSIGN, w.e1_staff, errors.NOT_ALLOWED, assignee=w.e1_staff, deadline=deadline)
    refused(
        f,
        Action.ASSIGN,
        w.gov_a,
        errors.DEADLINE_INVALID,
        assignee=w.gov_a,
        deadline=TODAY - datetime.timedelta(1),
    )
    refused(f, Action.ASSIGN, w.gov_a, errors.ASSIGNEE_INVALID, assignee=w.e1_staff, deadline=deadline)
    refused(f, Action.DISMISS, w.gov_a, errors.REASON_REQUIRED, comment="  ")
    refused(f, Action.ESCALATE, w.gov_a, errors.NO_NEXT_LEVEL, comment="no level above the city check")
    refused(f, "teleport", w.gov_a, errors.ILLEGAL_TRANSITION)
    assert f.status == S.OPEN


def test_a_blocking_error_cannot_be_acknowledged(people):
    w = people
    f = make(w, rule_id="KLN-XSRC-002", level=Level.CITY)
    assert f.severity == "error"
    assert Action.ACKNOWLEDGE not in workflow.available_transitions(f, member(w.e1_staff))
    refused(f, Action.ACKNOWLEDGE, w.gov_a, errors.WARNING_ONLY, comment="fine")


def test_closed_is_final(people):
    w = people
    f = make(w, level=Level.CITY)
    f.status = S.VERIFIED
    f.save()
    f = move(f, Action.CLOSE, w.gov_a)
    for action in Action.values:
        assert workflow.refusal(f, action, member(w.admin)) is not None


def test_available_transitions_per_persona(people):
    w = people
    f = make(w, level=Level.CITY)
    assert workflow.available_transitions(f, member(w.gov_a)) == ["assign", "acknowledge", "dismiss"]
    assert workflow.available_transitions(f, member(w.e1_staff)) == ["answer", "acknowledge"]
    assert workflow.available_transitions(f, member(w.e2_staff)) == []
    assert workflow.available_transitions(f, member(w.gov_b)) == []
    assert workflow.available_transitions(f, member(w.verifier_e1)) == []
    assert set(workflow.available_transitions(f, member(w.admin))) == {"assign", "acknowledge", "dismiss"}


def test_bulk_assign_reports_what_was_refused(people):
    w = people
    ours = make(w, level=Level.CITY)
    theirs = make(w, level=Level.CITY, enterprise=w.e2, rule_id="KLN-JUMP-001")
    moved, refusals = services.bulk_transition(
        [ours, theirs],
        Action.ASSIGN,
        actor=w.gov_a,
        membership=member(w.gov_a),
        assignee=w.gov_a,
        deadline=TODAY + datetime.timedelta(days=5),
        today=TODAY,
    )
    assert moved == 1 and [f.pk for f, _ in refusals] == [theirs.pk]
    assert refusals[0][1].code == errors.NOT_ALLOWED


def test_assignment_notifies_the_assignee(people, django_capture_on_commit_callbacks):
    from kiln.notifications.models import Notification

    w = people
    f = make(w, level=Level.CITY)
    with django_capture_on_commit_callbacks(execute=True):
        move(f, Action.ASSIGN, w.gov_a, assignee=w.gov_a, deadline=TODAY + datetime.timedelta(days=3))
    note = Notification.objects.get(user=w.gov_a)
    assert note.url == f"/screening/findings/{f.pk}/"
