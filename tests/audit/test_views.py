"""Audit search, export and analysis pages: who sees what, filters, exports audited, alerts."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from kiln.accounts.models import Membership, User
from kiln.accounts.roles import Role
from kiln.audit import alerts
from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent
from kiln.audit.services import record
from tests.accounts.helpers import signed_in


@pytest.fixture
def auditor_a(world):
    """A government auditor in city A's department."""
    user = User.objects.create_user("auditor_a", password="Auditor-pass-2026")
    Membership.objects.create(
        user=user, organisation=world.gov_a.memberships.get().organisation, role=Role.GOV_AUDITOR
    )
    return user


def _req(ip="10.0.0.1"):
    return RequestFactory().get("/", REMOTE_ADDR=ip)


@pytest.fixture
def events(world):
    """Events about E1 (region A), E2 (region B) and the operator."""
    record(
        EventType.USER_UPDATED, actor=world.e1_staff, target=world.e1_staff, after={"n": 1}, request=_req()
    )
    record(
        EventType.USER_UPDATED, actor=world.e2_staff, target=world.e2_staff, after={"n": 2}, request=_req()
    )
    record(EventType.DATA_CREATED, actor=world.admin, target=world.e1, after={"=cmd": "=1+1"}, request=_req())
    return AuditEvent.objects.all()


def labels(response):
    return {e.actor_label for e in response.context["page"]}


def test_platform_admin_sees_everything(client, world, events):
    signed_in(client, world.admin)
    response = client.get(reverse("audit:search"))
    assert {"e1_staff", "e2_staff", "admin"} <= labels(response)


def test_government_auditor_sees_its_region_and_below(client, world, events, auditor_a):
    signed_in(client, auditor_a)
    response = client.get(reverse("audit:search"))
    seen = {(e.actor_label, e.region_code) for e in response.context["page"]}
    assert ("e1_staff", world.county_a.code) in seen
    assert all(code.startswith("3399") or code == world.city_a.code for _, code in seen if code)
    assert "e2_staff" not in labels(response)
    e2_event = AuditEvent.objects.get(actor_label="e2_staff")
    assert client.get(reverse("audit:event", args=[e2_event.pk])).status_code == 404
    e1_event = AuditEvent.objects.filter(actor_label="e1_staff").first()
    assert client.get(reverse("audit:event", args=[e1_event.pk])).status_code == 200


@pytest.mark.parametrize("persona", ["gov_a", "e1_staff", "verifier_e1"])
def test_others_get_404(client, world, events, persona):
    signed_in(client, getattr(world, persona))
    for name in ("audit:search", "audit:analysis", "audit:export"):
        assert client.get(reverse(name)).status_code == 404
    assert client.get(reverse("audit:event", args=[events.first().pk])).status_code == 404


def test_filters(client, world, events):
    signed_in(client, world.admin)
    url = reverse("audit:search")
    assert labels(client.get(url, {"actor": "e2_"})) == {"e2_staff"}
    only = client.get(url, {"type": str(EventType.DATA_CREATED)}).context["page"]
    assert {e.event_type for e in only} == {EventType.DATA_CREATED}
    group = client.get(url, {"type": "200"}).context["page"]
    assert group and all(200 <= e.event_type < 300 for e in group)
    assert labels(client.get(url, {"target": world.e1.name[:4]})) == {"admin"}
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert not list(client.get(url, {"date_from": tomorrow}).context["page"])
    assert list(client.get(url, {"date_to": tomorrow, "date_from": "2000-01-01"}).context["page"])
    assert client.get(url, {"date_from": "not-a-date"}).status_code == 200


def test_viewing_the_log_is_audited(client, world, events):
    signed_in(client, world.admin)
    client.get(reverse("audit:search"), {"actor": "e1"})
    event = AuditEvent.objects.filter(event_type=EventType.AUDIT_VIEWED).get()
    assert event.after == {"filters": {"actor": "e1"}}


def test_search_text_is_escaped(client, world, events):
    signed_in(client, world.admin)
    response = client.get(reverse("audit:search"), {"actor": '"><script>x</script>'})
    assert "<script>x</script>" not in response.text


def test_csv_export_is_audited_and_formula_safe(client, world, events):
    signed_in(client, world.admin)
    response = client.get(reverse("audit:export"), {"format": "csv", "type": str(EventType.DATA_CREATED)})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    after = rows[1][13]
    assert after.startswith("{")  # JSON text; a cell starting with = would be prefixed with '
    exported = AuditEvent.objects.get(event_type=EventType.AUDIT_EXPORTED)
    assert exported.after["rows"] == 1 and exported.after["format"] == "csv"


def test_formula_cells_are_neutralised():
    from kiln.audit.views import neutralise

    assert neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)" and neutralise("@x") == "'@x"


def test_xlsx_export(client, world, events):
    signed_in(client, world.admin)
    response = client.get(reverse("audit:export"), {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet.max_row >= 4
    assert AuditEvent.objects.filter(event_type=EventType.AUDIT_EXPORTED).exists()


def test_export_needs_recent_sign_in(client, world, events):
    client.force_login(world.admin)
    response = client.get(reverse("audit:export"), {"format": "csv"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    assert not AuditEvent.objects.filter(event_type=EventType.AUDIT_EXPORTED).exists()


def test_auditor_export_is_scoped(client, world, events, auditor_a):
    signed_in(client, auditor_a)
    text = client.get(reverse("audit:export"), {"format": "csv"}).content.decode("utf-8-sig")
    assert "e1_staff" in text and "e2_staff" not in text


def test_brute_force_alert(world):
    for _ in range(5):
        record(
            EventType.LOGIN_FAILED,
            actor=None,
            target=world.e1_staff,
            after={"username": "e1_staff"},
            request=_req("10.6.6.6"),
        )
    found = alerts.brute_force(AuditEvent.objects.all())
    assert [(a.code, a.subject, a.count) for a in found] == [("KLN-AUD-ALERT-001", "e1_staff", 5)]
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert alerts.brute_force(AuditEvent.objects.all()) == []


def test_brute_force_from_one_address(world):
    for i in range(10):
        record(
            EventType.LOGIN_FAILED,
            actor=None,
            target=("accounts.user", "", f"u{i}"),
            after={"username": f"u{i}"},
            request=_req("10.6.6.6"),
        )
    found = alerts.brute_force(AuditEvent.objects.all())
    assert [(a.code, a.subject) for a in found] == [("KLN-AUD-ALERT-002", "10.6.6.6")]


def test_mass_export_alert(world):
    for _ in range(5):
        record(EventType.AUDIT_EXPORTED, actor=world.admin, after={"rows": 10})
    found = alerts.mass_export(AuditEvent.objects.all())
    assert [(a.code, a.subject, a.count) for a in found] == [("KLN-AUD-ALERT-003", "admin", 5)]


def test_real_brute_force_shows_on_the_analysis_page(client, world, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"login": "e1_staff", "password": "guess"})
    signed_in(client, world.admin)
    page = client.get(reverse("audit:analysis"))
    assert page.status_code == 200
    assert [a.code for a in page.context["alerts"]] == ["KLN-AUD-ALERT-001"]
    assert 'data-alerts="1"' in page.text
    assert page.context["failed_total"] == settings.AXES_FAILURE_LIMIT


def test_analysis_logins_by_hour_exports_and_new_ips(client, world):
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        record(EventType.LOGIN, actor=world.e1_staff, target=world.e1_staff, request=_req("10.1.1.1"))
    record(EventType.LOGIN, actor=world.e1_staff, target=world.e1_staff, request=_req("10.1.1.1"))
    record(EventType.LOGIN, actor=world.e1_staff, target=world.e1_staff, request=_req("203.0.113.9"))
    record(
        EventType.LOGIN, actor=world.e2_staff, target=world.e2_staff, request=_req("10.2.2.2")
    )  # first ever
    record(EventType.DATA_EXPORTED, actor=world.e1_staff, after={"rows": 3})
    signed_in(client, world.admin)
    context = client.get(reverse("audit:analysis"), {"days": "7"}).context
    hour = timezone.localtime().hour
    assert sum(r["count"] for r in context["logins_by_hour"]) >= 3
    assert next(r for r in context["logins_by_hour"] if r["hour"] == hour)["count"] >= 3
    assert [(r["actor_label"], r["ip"]) for r in context["new_ips"]] == [("e1_staff", "203.0.113.9")]
    assert {r["actor_label"]: r["n"] for r in context["exports_by_user"]}["e1_staff"] == 1


def test_alerts_command(world, capsys):
    from django.core.management import call_command

    for _ in range(5):
        record(EventType.AUDIT_EXPORTED, actor=world.admin, after={"rows": 1})
    call_command("audit", "alerts")
    assert "KLN-AUD-ALERT-003" in capsys.readouterr().out


def test_pages_in_chinese_and_english(client, world, events):
    signed_in(client, world.admin)
    assert (
        "审计日志" in client.get(reverse("audit:search")).text
        or "Audit log" in client.get(reverse("audit:search")).text
    )
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Audit log" in client.get(reverse("audit:search")).text
