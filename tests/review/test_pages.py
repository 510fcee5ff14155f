"""Supervision pages and API: what each persona sees and may do; outsiders get 404 for every object."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from kiln.review import verification
from kiln.review.models import Action, SampledEnterprise, State, Submission
from tests.accounts.helpers import FAST_HASHERS, signed_in
from tests.review.conftest import YEAR, m
from tests.review.helpers import act, checked, in_final, submitted
from tests.review.test_verification import PDF, body_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(reviewers, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    w = reviewers
    return w, {
        name: signed_in(Client(), getattr(w, name))
        for name in (
            "gov_a",
            "gov_b",
            "gov_county",
            "gov_province",
            "e1_staff",
            "e2_staff",
            "verifier_e1",
            "verifier_unassigned",
            "admin",
        )
    }


def test_outsiders_get_404_for_every_object_route(clients):
    w, c = clients
    sub = submitted(w)
    assignment = verification.assign(w.e1, YEAR, body_of(w.verifier_e1), actor=w.gov_a, membership=m(w.gov_a))
    act(sub, "start_preliminary", w.gov_county)
    item = __import__("kiln.review.services", fromlist=["x"]).request_information(
        sub, "?", actor=w.gov_county, membership=m(w.gov_county)
    )
    from kiln.review import sampling

    draw = sampling.draw(w.city_a, YEAR, 1, "county", seed=1, actor=w.gov_a, membership=m(w.gov_a))
    sampled = SampledEnterprise.objects.get(draw=draw)
    get_routes = [
        reverse("review:detail", args=[sub.pk]),
        reverse("review:submission-report", args=[sub.pk, "pdf"]),
        reverse("review:assignment", args=[assignment.pk]),
        reverse("review:proofs", args=[assignment.pk]),
        reverse("review:draw", args=[draw.pk]),
    ]
    post_routes = [
        reverse("review:transition", args=[sub.pk]),
        reverse("review:self-check", args=[sub.pk]),
        reverse("review:acknowledge", args=[sub.pk]),
        reverse("review:request-information", args=[sub.pk]),
        reverse("review:request-extension", args=[sub.pk]),
        reverse("review:reassign", args=[sub.pk]),
        reverse("review:answer-information", args=[item.pk]),
        reverse("review:add-finding", args=[assignment.pk]),
        reverse("review:conclude", args=[assignment.pk]),
        reverse("review:withdraw-assignment", args=[assignment.pk]),
        reverse("review:redraw", args=[draw.pk]),
        reverse("review:sampling-result", args=[sampled.pk]),
    ]
    for outsider in ("gov_b", "e2_staff", "verifier_unassigned"):
        for url in get_routes:
            assert c[outsider].get(url).status_code == 404, (outsider, url)
        for url in post_routes:
            assert c[outsider].post(url, {"action": "approve", "version": 0}).status_code == 404, (
                outsider,
                url,
            )
    sub.refresh_from_db()
    assert sub.state == State.PRELIMINARY
    # the insiders see the submission; the assigned body its assignment
    assert c["gov_a"].get(reverse("review:detail", args=[sub.pk])).status_code == 200
    assert c["e1_staff"].get(reverse("review:detail", args=[sub.pk])).status_code == 200
    assert c["verifier_e1"].get(reverse("review:detail", args=[sub.pk])).status_code == 200
    assert c["verifier_e1"].get(reverse("review:assignment", args=[assignment.pk])).status_code == 200
    proofs = c["verifier_e1"].get(reverse("review:proofs", args=[assignment.pk]))
    assert proofs.status_code == 200 and proofs["Content-Type"] == "application/zip"


def test_enterprise_flow_through_the_pages(clients):
    w, c = clients
    e1 = c["e1_staff"]
    response = e1.post(reverse("review:open"), {"period": str(YEAR)})
    sub = Submission.objects.get(enterprise=w.e1, period=str(YEAR))
    assert response.status_code == 302 and response["Location"] == reverse("review:detail", args=[sub.pk])
    e1.post(reverse("review:self-check", args=[sub.pk]))
    page = e1.get(reverse("review:detail", args=[sub.pk])).content.decode()
    assert "REV-SC-EVIDENCE" in page
    check = sub.self_checks.first()
    for f in check.results:
        e1.post(
            reverse("review:acknowledge", args=[sub.pk]), {"key": f["key"], "explanation": "paper records"}
        )
    sub.refresh_from_db()
    response = e1.post(
        reverse("review:transition", args=[sub.pk]), {"action": "submit", "version": sub.version}, follow=True
    )
    assert response.status_code == 200
    sub.refresh_from_db()
    assert sub.state == State.SUBMITTED
    # a stale form (the revision shown before) is told what happened, in its language
    response = e1.post(
        reverse("review:transition", args=[sub.pk]),
        {"action": "withdraw", "version": 0},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Someone else acted on this report" in response.content.decode()
    sub.refresh_from_db()
    assert sub.state == State.SUBMITTED


def test_reviewer_queue_filters_and_bulk_start(clients):
    w, c = clients
    sub = submitted(w)
    page = c["gov_county"].get(reverse("review:queue"), {"state": "submitted", "year": str(YEAR)})
    assert page.status_code == 200 and w.e1.name in page.content.decode()
    assert w.e1.name not in c["gov_b"].get(reverse("review:queue")).content.decode()
    response = c["gov_county"].post(
        reverse("review:bulk"), {"action": Action.START_PRELIMINARY, "ids": [sub.pk]}
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.state == State.PRELIMINARY and sub.preliminary_reviewer == w.gov_county


def test_return_form_with_item_comments(clients):
    w, c = clients
    sub = submitted(w)
    act(sub, "start_preliminary", w.gov_county)
    sub.refresh_from_db()
    c["gov_county"].post(
        reverse("review:transition", args=[sub.pk]),
        {
            "action": "return",
            "version": sub.version,
            "comment": "",
            "item_1": "total",
            "text_1": "Too high?",
            "item_2": "",
            "text_2": "",
            "item_3": "",
            "text_3": "",
        },
    )
    sub.refresh_from_db()
    assert sub.state == State.RETURNED
    page = c["e1_staff"].get(reverse("review:detail", args=[sub.pk])).content.decode()
    assert "Too high?" in page


def test_verifier_workspace_and_conclusion_upload(clients):
    w, c = clients
    assignment = verification.assign(w.e1, YEAR, body_of(w.verifier_e1), actor=w.gov_a, membership=m(w.gov_a))
    page = c["verifier_e1"].get(reverse("review:verification")).content.decode()
    assert w.e1.name in page
    assert w.e1.name not in c["verifier_unassigned"].get(reverse("review:verification")).content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = c["verifier_e1"].post(
        reverse("review:conclude", args=[assignment.pk]),
        {
            "conclusion": "confirmed",
            "text": "ok",
            "report": SimpleUploadedFile("report.pdf", PDF, "application/pdf"),
        },
    )
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == "concluded"
    report = c["gov_a"].get(reverse("review:verification-report", args=[assignment.pk]))
    assert report.status_code == 200 and report.content == PDF


def test_sampling_pages(clients):
    w, c = clients
    response = c["gov_a"].post(
        reverse("review:sampling-draw"),
        {"region": w.city_a.code, "year": YEAR, "size": 1, "stratify_by": "county", "seed": 42},
    )
    assert response.status_code == 302
    page = c["gov_a"].get(response["Location"]).content.decode()
    assert w.e1.name in page and "42" in page
    response = c["gov_b"].post(
        reverse("review:sampling-draw"),
        {"region": w.city_a.code, "year": YEAR, "size": 1, "stratify_by": "county"},
    )
    assert response.status_code == 302  # the form refuses a region gov_b cannot see; nothing drawn
    from kiln.review.models import SamplingDraw

    assert SamplingDraw.objects.count() == 1


def test_recalculate_from_the_queue(clients):
    from tests.reports.conftest import add_records
    from tests.review.helpers import opened

    w, c = clients
    add_records(w.e1, [(f"{YEAR}-05", "diesel", 3.0, "t", "")])  # a correction after the official run
    sub = opened(w)
    c["e1_staff"].post(reverse("review:self-check", args=[sub.pk]))
    sub.refresh_from_db()
    url = reverse("review:recalculate", args=[sub.pk])
    queue = c["gov_a"].get(reverse("review:queue")).content.decode()
    assert 'id="recalculation"' in queue and url in queue
    county = c["gov_county"].get(reverse("review:queue")).content.decode()
    assert 'id="recalculation"' in county and url not in county  # listed, but a county does not recalculate
    assert url in c["gov_a"].get(reverse("review:detail", args=[sub.pk])).content.decode()
    assert url not in c["e1_staff"].get(reverse("review:detail", args=[sub.pk])).content.decode()
    assert c["gov_b"].post(url, {"version": sub.version}).status_code == 404
    response = c["gov_a"].post(url, {"version": sub.version, "next": reverse("review:queue")})
    assert response.status_code == 302 and response["Location"] == reverse("review:queue")
    sub.refresh_from_db()
    assert 'id="recalculation"' not in c["gov_a"].get(reverse("review:queue")).content.decode()
    assert not any(f["code"] == "REV-SC-RUN-STALE" for f in sub.self_checks.first().results)


def test_overdue_deadlines_notifications_pages(clients):
    w, c = clients
    for name in ("review:overdue", "review:deadlines", "notifications:list"):
        assert c["gov_a"].get(reverse(name)).status_code == 200, name
    assert c["e1_staff"].get(reverse("review:overdue")).status_code == 404


def test_pages_in_both_languages(clients):
    w, c = clients
    sub = in_final(w)
    for language in ("zh-hans", "en"):
        for client, url in (
            (c["gov_province"], reverse("review:detail", args=[sub.pk])),
            (c["gov_province"], reverse("review:queue")),
            (c["e1_staff"], reverse("review:submissions")),
        ):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200
            assert response.headers["Content-Language"] == language


# --- API ---------------------------------------------------------------------------------------------------


def test_api_transition_with_revision_check(clients):
    w, c = clients
    sub = submitted(w)
    url = f"/api/v1/review/submissions/{sub.pk}/transitions"
    revision = Submission.objects.get(pk=sub.pk).version
    ok = c["gov_county"].post(
        url, json.dumps({"action": "start_preliminary", "version": revision}), content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["state"] == "preliminary"
    assert "pass_preliminary" in ok.json()["available_transitions"]
    stale = c["gov_a"].post(
        url,
        json.dumps({"action": "return", "version": revision, "comment": "x"}),
        content_type="application/json",
    )
    assert stale.status_code == 409 and stale.json()["code"] == "REV-STALE"
    out_of_turn = c["e1_staff"].post(url, json.dumps({"action": "approve"}), content_type="application/json")
    assert out_of_turn.status_code == 409 and out_of_turn.json()["code"] == "REV-NOT-ALLOWED-NOW"
    assert (
        c["gov_b"].post(url, json.dumps({"action": "approve"}), content_type="application/json").status_code
        == 404
    )
    listed = c["gov_a"].get("/api/v1/review/submissions").json()
    assert [s["id"] for s in listed] == [sub.pk]
    assert c["gov_b"].get("/api/v1/review/submissions").json() == []


def test_api_versions_and_diff(clients):
    w, c = clients
    sub = checked(w)
    act(sub, "submit", w.e1_staff)
    versions = c["e1_staff"].get(f"/api/v1/review/submissions/{sub.pk}/versions").json()
    assert [v["number"] for v in versions] == [1]
    assert c["e1_staff"].get(f"/api/v1/review/submissions/{sub.pk}/diff", {"old": 1, "new": 1}).json() == []
