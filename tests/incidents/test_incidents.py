"""An incident from opening to its report: playbook, notifications by level, freezes, findings, review, close."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from kiln.accounts.models import Membership
from kiln.accounts.roles import Role
from kiln.incidents import services
from kiln.incidents.models import Incident, IncidentAction, IncidentFreeze, Playbook
from kiln.intake.models import EnterpriseMonth
from kiln.notifications.models import Notification
from kiln.registry.models import GovernmentDepartment
from tests.accounts.helpers import signed_in
from tests.personas import user_with

S = Incident.Status


@pytest.fixture(autouse=True)
def locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def people(world):
    province = GovernmentDepartment.objects.create(
        kind="government", name="浙江省生态环境厅", region=world.province
    )
    world.gov_p = user_with("gov_p", province, Role.GOV_REVIEWER, email="gov_p@example.org")
    for user in (world.gov_a, world.gov_b, world.admin):
        user.email = f"{user.username}@example.org"
        user.save()
    return world


def open_one(w, level="III", kind="data_collection", region=None):
    return services.open_incident(
        actor=w.gov_a,
        title="电表数据缺失",
        kind=kind,
        level=level,
        region=region or w.city_a,
        owner=w.gov_a,
        summary="Three days of readings lost.",
    )


def test_the_playbook_becomes_the_checklist(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_one(people)
    playbook = Playbook.objects.get(kind="data_collection")
    assert [s.text_zh for s in incident.steps.all()] == playbook.steps_zh
    assert incident.actions.first().kind == IncidentAction.Kind.OPENED


@pytest.mark.parametrize(
    ("level", "in_app", "emails"),
    [
        ("III", {"gov_a"}, set()),
        ("II", {"gov_a", "gov_p"}, {"gov_a", "gov_p"}),
        ("I", {"gov_a", "gov_p", "admin"}, {"gov_a", "gov_p", "admin"}),
    ],
)
def test_notifications_by_level(people, django_capture_on_commit_callbacks, level, in_app, emails):
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_one(people, level=level)
    notes = Notification.objects.filter(key__startswith=f"incident:{incident.pk}:")
    notified = set(notes.values_list("user__username", flat=True))
    assert notified == in_app  # gov_b is in another city: never told
    assert {m.to[0].split("@")[0] for m in mail.outbox} == emails
    assert set(notes.values_list("kind", "level")) == {("incident", level)}
    assert set(notes.filter(emailed=True).values_list("user__username", flat=True)) == emails


def test_from_open_to_report(people, django_capture_on_commit_callbacks):
    w = people
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_one(w, level="II")
    step = incident.steps.first()
    services.toggle_step(step, actor=w.gov_a, done=True)
    services.set_status(incident, S.RESPONDING, actor=w.gov_a, note="Team assembled.")
    row = services.freeze(incident, w.e1, "2025-03", actor=w.gov_a)
    assert EnterpriseMonth.objects.get(enterprise=w.e1, period="2025-03").frozen
    services.add_note(incident, "The grid company confirmed the outage.", actor=w.gov_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_level(incident, "I", actor=w.gov_a, note="Affects the annual report.")
    raised = Notification.objects.filter(key__startswith=f"incident:{incident.pk}:level:", level="I")
    assert set(raised.values_list("user__username", flat=True)) == {"gov_a", "gov_p", "admin"}
    # the same occasion never notifies twice (a retried callback, say)
    assert services.notify_level(incident.pk, reason=raised.first().key.split(":", 2)[2]) == 3
    assert raised.count() == 3
    services.release(row, actor=w.gov_a)
    assert not EnterpriseMonth.objects.get(enterprise=w.e1, period="2025-03").frozen
    incident = services.set_status(incident, S.RESOLVED, actor=w.gov_a)
    with pytest.raises(services.IncidentError) as caught:
        services.set_status(incident, S.CLOSED, actor=w.gov_a)
    assert caught.value.code == services.REVIEW_MISSING
    services.review(
        incident,
        actor=w.gov_a,
        unforeseen="Meters buffer only 48 hours.",
        improvements="Ask the grid company for a 7-day buffer.",
    )
    incident = services.set_status(incident, S.CLOSED, actor=w.gov_a)
    assert incident.closed_at and incident.resolved_at
    with pytest.raises(services.IncidentError):
        services.add_note(incident, "too late", actor=w.gov_a)
    with pytest.raises(services.IncidentError) as caught:
        services.set_status(incident, S.RESPONDING, actor=w.gov_a)
    assert caught.value.code == services.ILLEGAL

    kinds = list(incident.actions.values_list("kind", flat=True))
    for kind in ("opened", "notify", "step", "status", "freeze", "note", "level", "release", "review"):
        assert kind in kinds

    client = signed_in(__import__("django.test", fromlist=["Client"]).Client(), w.gov_a)
    report = client.get(reverse("incidents:report", args=[incident.pk]))
    assert report.status_code == 200
    text = report.content.decode()
    assert "Meters buffer only 48 hours." in text and "7-day buffer" in text
    md = client.get(reverse("incidents:report-md", args=[incident.pk]))
    assert md.status_code == 200 and md["Content-Type"].startswith("text/markdown")
    assert "## " in md.content.decode() and "- [x]" in md.content.decode()


def test_policy_change_tracks_the_recomputation(people):
    from kiln.accounting import services as accounting
    from kiln.factors import services as factor_services
    from kiln.intake.models import ActivityRecord, ImportBatch

    w = people
    sets = factor_services.load_shipped()
    batch = ImportBatch.objects.create(door="cli", status="imported", row_count=1)
    ActivityRecord.objects.create(
        enterprise=w.e1,
        period="2024-01",
        item="electricity_purchased",
        quantity=100.0,
        unit="MWh",
        canonical_quantity=100.0,
        batch=batch,
    )
    official = accounting.calculate(actor=w.gov_a, region=w.city_a, year=2024, factor_set=sets[0])
    incident = services.open_incident(
        actor=w.gov_a,
        title="新排放因子发布",
        kind="policy_change",
        level="II",
        region=w.city_a,
        owner=w.gov_a,
        factor_set=sets[-1],
    )
    other = services.track_recomputation(incident, actor=w.gov_a, year=2024)
    incident.refresh_from_db()
    assert incident.base_run == official and incident.other_run == other and other.kind == "what_if"
    assert incident.compare_url == f"/accounting/compare/?base={official.pk}&other={other.pk}"
    plain = open_one(w)
    with pytest.raises(services.IncidentError) as caught:
        services.track_recomputation(plain, actor=w.gov_a, year=2024)
    assert caught.value.code == services.NOT_POLICY


def test_findings_are_linked(people):
    from kiln.screening.models import Finding, RuleVersion, ScreeningRun

    w = people
    incident = open_one(w)
    run = ScreeningRun.objects.create(trigger="cli", first_period="2025-03", last_period="2025-03")
    rule = RuleVersion.objects.get(rule_id="KLN-XSRC-001", version=1)
    finding = Finding.objects.create(
        rule_version=rule,
        rule_id=rule.rule_id,
        severity="warning",
        family="x",
        enterprise=w.e1,
        period="2025-03",
        fingerprint="f",
        level="city",
        first_run=run,
        last_run=run,
    )
    services.link_findings(incident, [finding], actor=w.gov_a)
    assert list(incident.findings.all()) == [finding]


# --- pages -----------------------------------------------------------------------------------------------------


def test_pages_and_outsiders(people, client):
    w = people
    incident = open_one(w)
    signed_in(client, w.gov_a)
    for url in (
        reverse("incidents:board"),
        reverse("incidents:new"),
        reverse("incidents:detail", args=[incident.pk]),
        reverse("incidents:playbooks"),
        reverse("notifications:list"),
    ):
        assert client.get(url).status_code == 200, url
    response = client.post(
        reverse("incidents:new"),
        {
            "title": "Login failures",
            "kind": "system_security",
            "level": "III",
            "region": w.city_a.pk,
            "owner": w.gov_a.pk,
            "summary": "Brute force on reporter accounts.",
        },
    )
    new = Incident.objects.get(title="Login failures")
    assert response.status_code == 302 and new.steps.count() == 6
    assert (
        client.post(reverse("incidents:act", args=[new.pk, "note"]), {"text": "Locked out."}).status_code
        == 302
    )
    assert (
        client.post(reverse("incidents:act", args=[new.pk, "status"]), {"target": "closed"}).status_code
        == 302
    )
    new.refresh_from_db()
    assert new.status == S.OPEN  # refused: the review is missing (the message tells why)
    assert (
        client.post(
            reverse("incidents:act", args=[new.pk, "freeze"]),
            {"credit_code": w.e2.credit_code, "period": "2025-01"},
        ).status_code
        == 302
    )
    assert not IncidentFreeze.objects.exists()  # E2 is not in city A
    assert client.post(reverse("incidents:act", args=[new.pk, "nonsense"])).status_code == 404

    for user in (w.gov_b, w.e1_staff, w.verifier_e1):
        signed_in(client, user)
        for name in ("incidents:detail", "incidents:report", "incidents:report-md"):
            assert client.get(reverse(name, args=[incident.pk])).status_code == 404, (user, name)
        assert (
            client.post(reverse("incidents:act", args=[incident.pk, "note"]), {"text": "x"}).status_code
            == 404
        )
    signed_in(client, w.e1_staff)
    assert client.get(reverse("incidents:board")).status_code == 404
    assert client.get(reverse("incidents:new")).status_code == 404
    assert client.get(reverse("incidents:playbook-edit", args=["client_crisis"])).status_code == 404


def test_playbook_editing(people, client):
    w = people
    signed_in(client, w.admin)
    response = client.post(
        reverse("incidents:playbook-edit", args=["client_crisis"]),
        {"steps_zh": "第一步\n\n第二步", "steps_en": "First\nSecond"},
    )
    assert response.status_code == 302
    book = Playbook.objects.get(kind="client_crisis")
    assert (book.steps_zh, book.steps_en) == (["第一步", "第二步"], ["First", "Second"])
    signed_in(client, w.gov_a)
    assert client.get(reverse("incidents:playbook-edit", args=["client_crisis"])).status_code == 404


def test_api(people, client):
    w = people
    incident = open_one(w)
    signed_in(client, w.gov_a)
    assert [i["id"] for i in client.get("/api/v1/incidents").json()] == [incident.pk]
    detail = client.get(f"/api/v1/incidents/{incident.pk}").json()
    assert detail["colour"] == "yellow" and detail["timeline"][0]["kind"] == "opened"
    signed_in(client, w.gov_b)
    assert client.get("/api/v1/incidents").json() == []
    assert client.get(f"/api/v1/incidents/{incident.pk}").status_code == 404


def test_membership_helpers(people):
    from kiln.incidents.queries import can_act, visible_incidents

    w = people
    incident = open_one(w, region=w.county_a)
    province = Membership.objects.get(user=w.gov_p)
    assert incident in visible_incidents(province) and can_act(province, incident)
    city_b = Membership.objects.get(user=w.gov_b)
    assert incident not in visible_incidents(city_b) and not can_act(city_b, incident)
