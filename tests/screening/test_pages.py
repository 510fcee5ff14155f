"""Screening pages, rule administration, the API and the CLI; outsiders get 404 everywhere."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from kiln.screening.models import Finding, RuleVersion, ScreeningRun


@pytest.fixture
def finding(screened):
    world, _run = screened
    return world, Finding.objects.get(rule_id="KLN-JUMP-002", enterprise=world.e1)


def status(client, url, method="get", **data):
    return getattr(client, method)(url, data).status_code


def test_dashboard_and_reviewer_pages(finding, signed):
    world, f = finding
    client = signed(world.gov_a)
    for name in (
        "screening:dashboard",
        "screening:queue",
        "screening:overview",
        "screening:rules",
        "screening:anomalies",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
    page = client.get(reverse("screening:dashboard")).content.decode()
    assert "lvl-red" in page or "lvl-yellow" in page
    queue = client.get(reverse("screening:queue")).content.decode()
    assert f"/screening/findings/{f.pk}/" in queue
    assert client.get(reverse("screening:finding", args=[f.pk])).status_code == 200
    assert client.get(reverse("screening:rule", args=["KLN-JUMP-002"])).status_code == 200
    run = ScreeningRun.objects.get()
    assert client.get(reverse("screening:run-detail", args=[run.pk])).status_code == 200


def test_outsiders_get_404(finding, signed):
    world, f = finding
    run = ScreeningRun.objects.get()
    reviewer_pages = [
        reverse(n)
        for n in (
            "screening:dashboard",
            "screening:queue",
            "screening:overview",
            "screening:rules",
            "screening:anomalies",
        )
    ]
    objects = [
        reverse("screening:finding", args=[f.pk]),
        reverse("screening:enterprise", args=[world.e1.credit_code]),
    ]
    for user in (world.gov_b, world.e2_staff, world.verifier_e1, world.verifier_unassigned):
        client = signed(user)
        for url in objects:
            assert client.get(url).status_code == 404, (user, url)
        assert (
            client.post(reverse("screening:act", args=[f.pk, "answer"]), {"comment": "x"}).status_code == 404
        )
    for user in (world.e1_staff, world.e2_staff, world.verifier_e1):
        client = signed(user)
        for url in reviewer_pages:
            assert client.get(url).status_code == 404, (user, url)
        assert client.get(reverse("screening:run-detail", args=[run.pk])).status_code == 404
    client = signed(world.gov_b)
    assert (
        client.get(reverse("screening:run-detail", args=[run.pk])).status_code == 200
    )  # a platform-wide run
    queue = client.get(reverse("screening:queue")).content.decode()
    assert f"/screening/findings/{f.pk}/" not in queue


def test_enterprise_answers_on_its_rectification_page(finding, signed):
    world, f = finding
    client = signed(world.e1_staff)
    assert client.get(reverse("screening:mine")).status_code == 302
    page = client.get(reverse("screening:enterprise", args=[world.e1.credit_code]))
    assert page.status_code == 200 and f"#{f.pk}" in page.content.decode()
    upload = io.BytesIO(b"%PDF-1.4 corrected ledger")
    upload.name = "ledger.pdf"
    response = client.post(
        reverse("screening:act", args=[f.pk, "answer"]),
        {
            "comment": "The March gas reading was typed twice.",
            "answer_kind": "correction",
            "evidence": upload,
            "evidence_kind": "stamped_ledger",
        },
    )
    assert response.status_code == 302
    f.refresh_from_db()
    assert f.status == Finding.Status.ANSWERED
    event = f.events.get(action="answer")
    assert event.evidence.kind == "stamped_ledger" and event.evidence.period == f.period
    # A second answer is refused with a translated message, not an error page.
    response = client.post(reverse("screening:act", args=[f.pk, "answer"]), {"comment": "again"}, follow=True)
    assert response.status_code == 200
    assert f.events.filter(action="refused").exists()


def test_reviewer_bulk_assigns_from_the_queue(finding, signed):
    world, f = finding
    client = signed(world.gov_a)
    ids = list(Finding.objects.filter(enterprise=world.e1).values_list("pk", flat=True))
    response = client.post(
        reverse("screening:bulk"),
        {
            "action": "assign",
            "ids": " ".join(map(str, ids)),
            "assignee": world.gov_a.pk,
            "deadline": "2099-01-01",
        },
    )
    assert response.status_code == 302
    assert Finding.objects.filter(pk__in=ids, status="assigned", assignee=world.gov_a).count() == len(ids)


def test_run_on_demand_from_the_dashboard(reported, signed):
    world = reported
    client = signed(world.gov_a)
    response = client.post(reverse("screening:run"), {"year": "2025"})
    run = ScreeningRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "screening:run-detail", args=[run.pk]
    )
    assert run.region_id == world.city_a.pk and run.trigger == "manual"
    assert set(Finding.objects.values_list("enterprise", flat=True)) == {world.e1.pk}  # E2 is not in city A
    assert client.post(reverse("screening:run"), {"period": "2025-01", "year": "2025"}).status_code == 302
    assert ScreeningRun.objects.count() == 1
    assert signed(world.e1_staff).post(reverse("screening:run"), {"year": "2025"}).status_code == 404


def test_rule_admin_makes_versions_and_never_edits_a_used_one(finding, signed):
    world, _f = finding
    assert signed(world.gov_a).get(reverse("screening:rule-edit", args=["KLN-JUMP-002"])).status_code == 404
    client = signed(world.admin)
    used = RuleVersion.objects.get(rule_id="KLN-JUMP-002", version=1)
    assert used.used
    form = {
        f: getattr(used, f)
        for f in (
            "engine_check",
            "severity",
            "sector",
            "item",
            "parameter",
            "message_zh",
            "message_en",
            "route_to",
            "deadline_days",
            "note",
        )
    }
    form.update(
        params=json.dumps({"ratio": 3.0, "window": 12, "min_months": 6}), enabled="on", low="", high=""
    )
    response = client.post(reverse("screening:rule-edit", args=["KLN-JUMP-002"]), form)
    assert response.status_code == 302
    versions = RuleVersion.objects.filter(rule_id="KLN-JUMP-002").order_by("version")
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].params["ratio"] == 2.5 and versions[1].params["ratio"] == 3.0
    # v2 is not used yet: saving again edits the draft in place.
    form["params"] = json.dumps({"ratio": 3.5})
    client.post(reverse("screening:rule-edit", args=["KLN-JUMP-002"]), form)
    assert RuleVersion.objects.filter(rule_id="KLN-JUMP-002").count() == 2
    assert RuleVersion.objects.get(rule_id="KLN-JUMP-002", version=2).params == {"ratio": 3.5}
    # Bad JSON and unknown checks are refused with the form shown again.
    form["params"] = "{not json"
    assert client.post(reverse("screening:rule-edit", args=["KLN-JUMP-002"]), form).status_code == 200


def test_a_new_rule_without_code(reported, signed):
    world = reported
    client = signed(world.admin)
    assert client.get(reverse("screening:rule-new")).status_code == 200
    response = client.post(
        reverse("screening:rule-new"),
        {
            "rule_id": "KLN-RANGE-040",
            "engine_check": "range",
            "severity": "error",
            "item": "natural_gas",
            "parameter": "ncv",
            "low": "1",
            "high": "2",
            "params": "{}",
            "message_zh": "{item} {value}",
            "message_en": "{item} {value}",
            "route_to": "city",
            "deadline_days": "10",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    rule = RuleVersion.objects.get(rule_id="KLN-RANGE-040")
    assert (rule.version, rule.low, rule.high) == (1, 1.0, 2.0)
    from kiln.screening import services

    services.run_screening(actor=None, trigger="cli", first="2025-01", last="2025-06")
    assert not Finding.objects.filter(rule_id="KLN-RANGE-040").exists()  # no gas NCV is reported
    duplicate = client.post(
        reverse("screening:rule-new"),
        {
            "rule_id": "KLN-RANGE-040",
            "engine_check": "range",
            "severity": "error",
            "params": "{}",
            "message_zh": "x",
            "message_en": "x",
            "route_to": "city",
            "deadline_days": "10",
        },
    )
    assert duplicate.status_code == 200 and RuleVersion.objects.filter(rule_id="KLN-RANGE-040").count() == 1


def test_api(finding, signed):
    world, f = finding
    client = signed(world.gov_a)
    listed = client.get("/api/v1/screening/findings").json()
    assert f.pk in [x["id"] for x in listed]
    one = client.get(f"/api/v1/screening/findings/{f.pk}").json()
    assert one["available_transitions"] == ["assign", "acknowledge", "dismiss"]
    assert "natural_gas" in one["item"] and one["message"]
    moved = client.post(
        f"/api/v1/screening/findings/{f.pk}/transitions",
        json.dumps({"action": "dismiss", "comment": "test data"}),
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["status"] == "dismissed"
    again = client.post(
        f"/api/v1/screening/findings/{f.pk}/transitions",
        json.dumps({"action": "close"}),
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["code"] == "KLN-FIND-ILLEGAL-TRANSITION"
    assert (
        len(client.get("/api/v1/screening/rules").json())
        == RuleVersion.objects.values("rule_id").distinct().count()
    )
    warnings = client.get("/api/v1/screening/warnings").json()
    assert set(warnings["totals"]) == {"red", "yellow", "blue"}
    run = client.post(
        "/api/v1/screening/runs", json.dumps({"period": "2025-03"}), content_type="application/json"
    )
    assert run.status_code == 201 and run.json()["region_code"] == world.city_a.code
    bad = client.post("/api/v1/screening/runs", json.dumps({}), content_type="application/json")
    assert bad.status_code == 400
    outsider = signed(world.gov_b)
    assert outsider.get(f"/api/v1/screening/findings/{f.pk}").status_code == 404
    assert (
        outsider.post(
            f"/api/v1/screening/findings/{f.pk}/transitions",
            json.dumps({"action": "dismiss"}),
            content_type="application/json",
        ).status_code
        == 404
    )
    assert signed(world.verifier_e1).get("/api/v1/screening/rules").status_code == 404


def test_cli(reported, capsys):
    call_command("screen", "--year", "2025", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["first"] == "2025-01" and out["last"] == "2025-12" and out["findings"] > 0
    assert "KLN-JUMP-002" in out["by_rule"] and "prepare" in out["timings_s"]
    call_command("screen", "--period", "2025-03", "--region", reported.city_a.code)
    assert "Screening run" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("screen", "--region", "999999")


def test_english_and_chinese_messages(finding):
    from django.utils import translation

    from kiln.screening.display import message

    _world, f = finding
    with translation.override("en"):
        assert message(f).startswith("natural gas in 2025-03 is 4")
    with translation.override("zh-hans"):
        assert message(f).startswith("天然气 2025-03 为本企业近12个月中位数的 4")
