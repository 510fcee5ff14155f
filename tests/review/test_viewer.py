"""A government viewer (and auditor) follows supervision of their region read-only (Perm.VIEW_SUPERVISION).

The viewer persona is built here rather than in ``tests/personas.py`` (the permission matrix iterates
those): a 政府查看员 of the county bureau of region A, whose county holds E1; E2 lies outside it.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from kiln.accounts.roles import Perm, Role, permissions_of
from kiln.registry.models import GovernmentDepartment
from kiln.review import sampling, services, verification
from kiln.review.models import (
    Acknowledgement,
    ExtensionRequest,
    InformationRequest,
    ReviewComment,
    SampledEnterprise,
    SamplingDraw,
    SelfCheck,
    State,
    Submission,
    SubmissionVersion,
    Transition,
    VerificationAssignment,
)
from kiln.review.templatetags.review import has_supervision
from tests.accounts.helpers import FAST_HASHERS, signed_in
from tests.personas import user_with
from tests.review.conftest import YEAR, m
from tests.review.helpers import act, submitted
from tests.review.test_verification import body_of

pytestmark = pytest.mark.django_db

# Every POST route of supervision, what a viewer of the report's region gets: 404 where the view is
# reviewer-only (as for an outsider), 302 where the service refuses (the existing refusal, shown as a message).
REFUSED = 302


@pytest.fixture
def viewers(reviewers, settings):
    """``gov_viewer``: a viewer of county A's bureau; ``gov_auditor``: an auditor of city A's bureau."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    w = reviewers
    county = GovernmentDepartment.objects.get(region=w.county_a)
    city = GovernmentDepartment.objects.get(region=w.city_a)
    w.gov_viewer = user_with("gov_viewer", county, Role.GOV_VIEWER)
    w.gov_auditor = user_with("gov_auditor", city, Role.GOV_AUDITOR)
    return w


def client(user) -> Client:
    return signed_in(Client(HTTP_ACCEPT_LANGUAGE="en"), user)


def test_the_permission_table():
    for role in (Role.GOV_VIEWER, Role.GOV_AUDITOR, Role.GOV_REVIEWER, Role.PLATFORM_ADMIN):
        assert Perm.VIEW_SUPERVISION in permissions_of(role), role
    for role in Role:
        if Perm.REVIEW in permissions_of(role):
            assert Perm.VIEW_SUPERVISION in permissions_of(role), role
    for role in (
        Role.ENTERPRISE_REPORTER,
        Role.ENTERPRISE_MANAGER,
        Role.VERIFIER,
        Role.CONSULTANT,
        Role.GRID_MAINTAINER,
        Role.TECH_EXPERT,
    ):
        assert Perm.VIEW_SUPERVISION not in permissions_of(role), role
    # viewing never brings acting with it
    assert Perm.REVIEW not in permissions_of(Role.GOV_VIEWER)
    assert Perm.REVIEW not in permissions_of(Role.GOV_AUDITOR)


def test_the_nav_link(viewers):
    w = viewers
    for user in (w.gov_viewer, w.gov_auditor, w.gov_a, w.admin, w.e1_staff, w.verifier_e1):
        assert has_supervision(m(user)), user
    page = client(w.gov_viewer).get(reverse("home")).content.decode()
    assert reverse("review:index") in page


@pytest.mark.parametrize("who", ["gov_viewer", "gov_auditor"])
def test_viewer_sees_the_queue_and_a_report_of_their_region(viewers, who):
    w = viewers
    sub = submitted(w)
    act(sub, "start_preliminary", w.gov_county)
    c = client(getattr(w, who))
    response = c.get(reverse("review:index"))
    assert response.status_code == 302 and response["Location"] == reverse("review:queue")

    queue = c.get(reverse("review:queue"))
    assert queue.status_code == 200
    page = queue.content.decode()
    assert w.e1.name in page and reverse("review:detail", args=[sub.pk]) in page
    assert reverse("review:bulk") not in page and 'name="ids"' not in page
    assert 'id="read-only"' in page
    assert reverse("review:verification") not in page  # the verification workspace stays the reviewers'

    detail = c.get(reverse("review:detail", args=[sub.pk]))
    assert detail.status_code == 200
    page = detail.content.decode()
    assert w.e1.name in page and 'id="actions"' not in page and "data-action" not in page
    for name in ("transition", "request-information", "reassign", "recalculate", "self-check"):
        assert reverse(f"review:{name}", args=[sub.pk]) not in page, name
    # the history: submitted, then preliminary review started
    assert page.count('<ol class="history">') == 1 and "gov_county" in page

    for name in ("overdue", "deadlines", "sampling"):
        assert c.get(reverse(f"review:{name}")).status_code == 200, name


def test_reviewers_keep_their_forms(viewers):
    w = viewers
    submitted(w)
    page = client(w.gov_county).get(reverse("review:queue")).content.decode()
    assert reverse("review:bulk") in page and 'name="ids"' in page and 'id="read-only"' not in page
    page = client(w.gov_a).get(reverse("review:sampling")).content.decode()
    assert reverse("review:sampling-draw") in page


def test_viewer_gets_404_outside_their_region(viewers):
    w = viewers
    sub = submitted(w)
    other = services.open_submission(w.e2, str(YEAR), actor=w.e2_staff, membership=m(w.e2_staff))
    draw_a = sampling.draw(w.city_a, YEAR, 1, "county", seed=1, actor=w.gov_a, membership=m(w.gov_a))
    c = client(w.gov_viewer)
    assert c.get(reverse("review:detail", args=[other.pk])).status_code == 404
    assert c.get(reverse("review:submission-report", args=[other.pk, "pdf"])).status_code == 404
    for state in ("", "draft"):
        page = c.get(reverse("review:queue"), {"state": state} if state else {}).content.decode()
        assert w.e2.name not in page
    assert w.e1.name in c.get(reverse("review:queue")).content.decode()
    # city B's viewer sees B, not A
    bureau_b = GovernmentDepartment.objects.get(region=w.city_b)
    viewer_b = client(user_with("gov_viewer_b", bureau_b, Role.GOV_VIEWER))
    assert viewer_b.get(reverse("review:detail", args=[sub.pk])).status_code == 404
    assert viewer_b.get(reverse("review:detail", args=[other.pk])).status_code == 200
    assert w.e1.name not in viewer_b.get(reverse("review:queue")).content.decode()
    assert viewer_b.get(reverse("review:draw", args=[draw_a.pk])).status_code == 404
    assert (
        reverse("review:draw", args=[draw_a.pk])
        not in viewer_b.get(reverse("review:sampling")).content.decode()
    )


def _state() -> dict:
    """Everything a supervision POST could change."""
    return {
        "submissions": list(
            Submission.objects.order_by("pk").values_list(
                "pk", "state", "version", "preliminary_reviewer", "final_reviewer", "deadline_extended_to"
            )
        ),
        "versions": SubmissionVersion.objects.count(),
        "transitions": Transition.objects.count(),
        "checks": SelfCheck.objects.count(),
        "acknowledgements": list(Acknowledgement.objects.values_list("pk", "explanation")),
        "information": list(InformationRequest.objects.values_list("pk", "answer", "answered_at")),
        "extensions": list(ExtensionRequest.objects.values_list("pk", "decision", "decided_by")),
        "comments": list(ReviewComment.objects.values_list("pk", "response")),
        "draws": SamplingDraw.objects.count(),
        "sampled": list(SampledEnterprise.objects.values_list("pk", "result", "result_note")),
        "assignments": list(VerificationAssignment.objects.values_list("pk", "status", "conclusion")),
        "findings": sum(a.findings.count() for a in VerificationAssignment.objects.all()),
    }


@pytest.mark.parametrize("who", ["gov_viewer", "gov_auditor"])
def test_every_post_action_is_refused_and_changes_nothing(viewers, who):
    w = viewers
    sub = submitted(w)
    act(sub, "start_preliminary", w.gov_county)
    sub.refresh_from_db()
    info = services.request_information(sub, "Why?", actor=w.gov_county, membership=m(w.gov_county))
    comment = ReviewComment.objects.create(
        submission=sub, version=sub.current_version, stage="preliminary", item_key="general", text="?"
    )
    extension = ExtensionRequest.objects.create(
        submission=sub,
        reason="flood",
        requested_until=datetime.date(YEAR + 2, 1, 1),
        previous_deadline=datetime.date(YEAR + 1, 1, 1),
        requested_by=w.e1_staff,
    )
    assignment = verification.assign(w.e1, YEAR, body_of(w.verifier_e1), actor=w.gov_a, membership=m(w.gov_a))
    draw = sampling.draw(w.city_a, YEAR, 1, "county", seed=1, actor=w.gov_a, membership=m(w.gov_a))
    sampled = SampledEnterprise.objects.get(draw=draw)
    sub.refresh_from_db()  # the request for information moved its revision on
    routes = {
        reverse("review:open"): ({"period": str(YEAR)}, 404),
        reverse("review:bulk"): ({"action": "start_preliminary", "ids": [sub.pk]}, 404),
        reverse("review:self-check", args=[sub.pk]): ({}, REFUSED),
        reverse("review:acknowledge", args=[sub.pk]): ({"key": "x", "explanation": "y"}, REFUSED),
        reverse("review:request-information", args=[sub.pk]): ({"question": "More?"}, REFUSED),
        reverse("review:request-extension", args=[sub.pk]): (
            {"until": f"{YEAR + 2}-06-01", "reason": "r"},
            REFUSED,
        ),
        reverse("review:reassign", args=[sub.pk]): (
            {"stage": "preliminary", "assignee": w.gov_a.pk},
            REFUSED,
        ),
        reverse("review:recalculate", args=[sub.pk]): ({"version": sub.version}, REFUSED),
        reverse("review:answer-information", args=[info.pk]): ({"answer": "because"}, REFUSED),
        reverse("review:decide-extension", args=[extension.pk]): (
            {"decision": "granted", "note": ""},
            REFUSED,
        ),
        reverse("review:respond", args=[comment.pk]): ({"response": "ok"}, REFUSED),
        reverse("review:assign-verifier"): (
            {"credit_code": w.e1.credit_code, "year": YEAR, "agency": body_of(w.verifier_e1).pk},
            404,
        ),
        reverse("review:add-engagement"): ({"credit_code": w.e1.credit_code}, 404),
        reverse("review:add-finding", args=[assignment.pk]): ({"text": "x", "severity": "minor"}, 404),
        reverse("review:conclude", args=[assignment.pk]): ({"conclusion": "confirmed", "text": "x"}, 404),
        reverse("review:withdraw-assignment", args=[assignment.pk]): ({"reason": "x"}, 404),
        reverse("review:sampling-draw"): (
            {"region": w.city_a.code, "year": YEAR, "size": 1, "stratify_by": "county", "seed": 2},
            404,
        ),
        reverse("review:redraw", args=[draw.pk]): ({"reason": "again", "seed": 3}, 404),
        reverse("review:sampling-result", args=[sampled.pk]): (
            {"result": "compliant", "note": "", "inspected_on": f"{YEAR + 1}-01-02"},
            404,
        ),
    }
    before = _state()
    c = client(getattr(w, who))
    for action in ("start_preliminary", "pass_preliminary", "return", "approve", "withdraw", "submit"):
        response = c.post(
            reverse("review:transition", args=[sub.pk]),
            {"action": action, "version": sub.version, "comment": "c"},
            follow=True,
        )
        assert response.status_code == 200, action
        assert "Your role may not do this" in response.content.decode() or (
            "not possible while the report is" in response.content.decode()
        ), action
    for url, (data, expected) in routes.items():
        response = c.post(url, data)
        assert response.status_code == expected, (url, response.status_code)
    assert _state() == before
    sub.refresh_from_db()
    assert sub.state == State.PRELIMINARY


def test_viewer_sees_draws_without_their_forms(viewers):
    w = viewers
    # a county's draw: the county viewer sees what a county reviewer sees (not the city's draws)
    draw = sampling.draw(
        w.county_a, YEAR, 1, "county", seed=7, actor=w.gov_county, membership=m(w.gov_county)
    )
    c = client(w.gov_viewer)
    page = c.get(reverse("review:sampling")).content.decode()
    assert reverse("review:draw", args=[draw.pk]) in page
    assert reverse("review:sampling-draw") not in page
    page = c.get(reverse("review:draw", args=[draw.pk])).content.decode()
    assert w.e1.name in page
    assert reverse("review:redraw", args=[draw.pk]) not in page and "sampling/result/" not in page
    # the reviewer still has them
    page = client(w.gov_county).get(reverse("review:draw", args=[draw.pk])).content.decode()
    assert reverse("review:redraw", args=[draw.pk]) in page


def test_other_roles_are_unaffected(viewers):
    w = viewers
    submitted(w)
    # enterprise staff go to their reports; they have no queue, sampling or overdue list
    e1 = client(w.e1_staff)
    assert e1.get(reverse("review:index"))["Location"] == reverse("review:submissions")
    verifier = client(w.verifier_e1)
    assert verifier.get(reverse("review:index"))["Location"] == reverse("review:verification")
    for c in (e1, verifier):
        for name in ("queue", "sampling", "overdue", "deadlines"):
            assert c.get(reverse(f"review:{name}")).status_code == 404, name
    # a viewer has no verification workspace
    assert client(w.gov_viewer).get(reverse("review:verification")).status_code == 404
