"""What the supervision POST pages tell the user and where they send them, refusal and success alike.

The views share one form → service → message → redirect helper; these pin each view's own part of it
(the refusal text, the success text, the redirect) so that a change to the helper shows up here."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kiln.review import deadlines, verification
from kiln.review.models import (
    ExtensionRequest,
    SampledEnterprise,
    SamplingDraw,
    Submission,
    VerificationAssignment,
)
from tests.accounts.helpers import FAST_HASHERS, signed_in
from tests.review.conftest import YEAR, m
from tests.review.helpers import act, submitted
from tests.review.test_verification import PDF, body_of

pytestmark = pytest.mark.django_db

INCOMPLETE = ("error", "The form was incomplete; nothing changed.")


@pytest.fixture
def post(reviewers, settings):
    """post(persona, route, args, data) -> (messages as (level, text), redirect target), in English."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    clients: dict[str, Client] = {}

    def post(persona, route, args=(), data=None, language="en"):
        if persona not in clients:
            clients[persona] = signed_in(Client(), getattr(reviewers, persona))
        clients[persona].cookies.pop(CookieStorage.cookie_name, None)  # only this request's messages
        response = clients[persona].post(reverse(route, args=args), data or {}, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 302, (route, response.status_code)
        said = [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]
        return said, response["Location"]

    return post


def test_enterprise_pages(reviewers, post):
    said, to = post("e1_staff", "review:open", data={"period": "next year"})
    assert said == [("error", "The period must be a year (YYYY) or a month (YYYY-MM) that has ended.")]
    assert to == reverse("review:submissions") and not Submission.objects.exists()
    said, _ = post("e1_staff", "review:open", data={"period": "next year"}, language="zh-hans")
    assert said == [("error", "期间须为已结束的年份（YYYY）或月份（YYYY-MM）。")]

    said, to = post("e1_staff", "review:open", data={"period": str(YEAR)})
    sub = Submission.objects.get()
    detail = reverse("review:detail", args=[sub.pk])
    assert said == [] and to == detail
    said, to = post("e1_staff", "review:open", data={"period": str(YEAR + 900)})  # not ended: refused
    assert said == [("error", "The period must be a year (YYYY) or a month (YYYY-MM) that has ended.")]
    assert to == reverse("review:submissions") and Submission.objects.count() == 1

    said, to = post("e1_staff", "review:self-check", [sub.pk])
    check = sub.self_checks.first()
    assert said == [
        (
            "success",
            f"Self-check done: {check.errors} blocking errors, {check.warnings} warnings.",
        )
    ]
    assert to == detail

    said, to = post("e1_staff", "review:acknowledge", [sub.pk], {"key": "x", "explanation": ""})
    assert said == [("error", "Write an explanation for the warning.")] and to == detail
    said, to = post("e1_staff", "review:acknowledge", [sub.pk], {"key": "nope", "explanation": "why"})
    assert said == [("error", "That warning is not in the latest self-check.")] and to == detail
    key = next(f["key"] for f in check.results if f["severity"] == "warning")
    said, to = post("e1_staff", "review:acknowledge", [sub.pk], {"key": key, "explanation": "paper records"})
    assert said == [("success", "Explanation saved.")] and to == detail

    deadline = deadlines.deadline_of(sub).isoformat()
    said, to = post("e1_staff", "review:request-extension", [sub.pk], {"until": "", "reason": ""})
    assert said == [("error", f"The new date must be after the current deadline ({deadline}).")]
    assert to == detail

    said, to = post("e1_staff", "review:transition", [sub.pk], {"action": "fly", "version": sub.version})
    assert said == [INCOMPLETE] and to == detail
    said, to = post("e1_staff", "review:transition", [sub.pk], {"action": "submit", "version": 0})
    assert said[0][0] == "error" and said[0][1].startswith("Someone else acted on this report")
    assert to == detail


def test_reviewer_pages(reviewers, post):
    w = reviewers
    sub = submitted(w)
    detail = reverse("review:detail", args=[sub.pk])
    said, to = post(
        "gov_county", "review:transition", [sub.pk], {"action": "start_preliminary", "version": sub.version}
    )
    assert said == [("success", "Done: Start preliminary review.")] and to == detail

    said, to = post("gov_county", "review:request-information", [sub.pk], {"question": ""})
    assert said == [("error", "Write the question.")] and to == detail
    said, to = post("gov_county", "review:request-information", [sub.pk], {"question": "Why?"})
    assert said == [("success", "The request for information was sent.")] and to == detail
    item = sub.information_requests.get()
    said, to = post("e1_staff", "review:answer-information", [item.pk], {"answer": ""})
    assert said == [("error", "Write an explanation for the warning.")] and to == detail
    said, to = post("e1_staff", "review:answer-information", [item.pk], {"answer": "Because."})
    assert said == [("success", "Answer sent.")] and to == detail

    said, to = post("gov_a", "review:reassign", [sub.pk], {"stage": "preliminary", "assignee": ""})
    assert said == [("error", "That person cannot review this report.")] and to == detail
    said, to = post(
        "gov_a", "review:reassign", [sub.pk], {"stage": "preliminary", "assignee": w.gov_county.pk}
    )
    assert said == [("success", f"Reassigned to {w.gov_county}.")] and to == detail

    sub.refresh_from_db()
    act(sub, "return", w.gov_county, comment="", comments=[("total", "Check the totals.")])
    comment = sub.comments.get()
    said, to = post("e1_staff", "review:respond", [comment.pk], {"response": ""})
    assert said == [("error", "Write an explanation for the warning.")] and to == detail
    said, to = post("e1_staff", "review:respond", [comment.pk], {"response": "Checked."})
    assert said == [] and to == detail
    comment.refresh_from_db()
    assert comment.response == "Checked."

    deadline = deadlines.deadline_of(sub)
    extension = ExtensionRequest.objects.create(
        submission=sub,
        reason="fire",
        requested_until=deadline.replace(year=deadline.year + 1),
        previous_deadline=deadline,
        requested_by=w.e1_staff,
    )
    said, to = post("gov_a", "review:decide-extension", [extension.pk], {"decision": "", "note": ""})
    assert said == [("error", "This action is not possible while the report is .")] and to == detail
    extension.refresh_from_db()
    assert extension.decision == ExtensionRequest.Decision.PENDING


def test_verification_pages(reviewers, post):
    w = reviewers
    verification_url = reverse("review:verification")
    said, to = post("gov_a", "review:assign-verifier", data={"credit_code": w.e1.credit_code})
    assert said == [INCOMPLETE] and to == verification_url
    said, to = post(
        "gov_a",
        "review:assign-verifier",
        data={"credit_code": w.e1.credit_code, "year": YEAR, "agency": body_of(w.verifier_e1).pk},
    )
    assert said == [("success", "The verification body is assigned.")] and to == verification_url
    assignment = VerificationAssignment.objects.get()
    said, to = post(
        "gov_a",
        "review:assign-verifier",
        data={"credit_code": w.e1.credit_code, "year": YEAR, "agency": body_of(w.verifier_e1).pk},
    )
    assert said == [("error", "A verification body is already assigned to this enterprise and year.")]
    assert to == verification_url
    said, to = post("gov_a", "review:add-engagement", data={"credit_code": w.e1.credit_code})
    assert said == [INCOMPLETE] and to == verification_url

    page = reverse("review:assignment", args=[assignment.pk])
    said, to = post("verifier_e1", "review:add-finding", [assignment.pk], {"text": ""})
    assert said == [("error", "Write an explanation for the warning.")] and to == page
    said, to = post(
        "verifier_e1", "review:conclude", [assignment.pk], {"conclusion": "confirmed", "text": "ok"}
    )
    assert said == [("error", "Upload the signed verification report as a PDF.")] and to == page
    said, to = post(
        "verifier_e1",
        "review:conclude",
        [assignment.pk],
        {
            "conclusion": "confirmed",
            "text": "ok",
            "report": SimpleUploadedFile("r.pdf", PDF, "application/pdf"),
        },
    )
    assert said == [("success", "The conclusion and the signed report are recorded.")] and to == page


def test_withdrawal_needs_no_reason(reviewers, post):
    w = reviewers
    assignment = verification.assign(w.e1, YEAR, body_of(w.verifier_e1), actor=w.gov_a, membership=m(w.gov_a))
    said, to = post("gov_a", "review:withdraw-assignment", [assignment.pk])
    assert said == [] and to == reverse("review:verification")
    assignment.refresh_from_db()
    assert assignment.status == VerificationAssignment.Status.WITHDRAWN
    said, to = post("gov_a", "review:withdraw-assignment", [assignment.pk], {"reason": "again"})
    assert said == [("error", "This verification is closed.")] and to == reverse("review:verification")


def test_sampling_pages(reviewers, post):
    w = reviewers
    said, to = post("gov_a", "review:sampling-draw", data={"region": w.city_a.code})
    assert said == [INCOMPLETE] and to == reverse("review:sampling")
    form = {"region": w.city_a.code, "year": YEAR, "size": 10_000, "stratify_by": "county"}
    said, to = post("gov_a", "review:sampling-draw", data=form)
    assert [level for level, _ in said] == ["error"] and said[0][1].startswith("The sample size must be")
    assert to == reverse("review:sampling") and not SamplingDraw.objects.exists()
    said, to = post("gov_a", "review:sampling-draw", data={**form, "size": 1, "seed": 7})
    draw = SamplingDraw.objects.get()
    assert said == [] and to == reverse("review:draw", args=[draw.pk])

    said, to = post("gov_a", "review:redraw", [draw.pk], {"reason": ""})
    assert said == [("error", "Say why the sample is drawn again.")] and to == reverse(
        "review:draw", args=[draw.pk]
    )
    said, to = post("gov_a", "review:redraw", [draw.pk], {"reason": "the first one was lost", "seed": 8})
    again = SamplingDraw.objects.exclude(pk=draw.pk).get()
    assert said == [] and to == reverse("review:draw", args=[again.pk])

    sampled = SampledEnterprise.objects.filter(draw=again).first()
    said, to = post("gov_a", "review:sampling-result", [sampled.pk], {"result": ""})
    assert said == [("error", "Choose the result of the on-site check.")]
    assert to == reverse("review:draw", args=[again.pk])
