"""Review API: submissions in scope, their versions and differences, and workflow transitions.

``POST /review/submissions/{id}/transitions`` takes ``{"action", "version", "comment", "comments"}``;
``version`` is the submission's revision the caller last saw (``REV-STALE`` when someone acted first).
Refusals are 409 with a stable code and a translated message; objects outside the caller's scope are 404.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from kiln.accounts.current import current_membership
from kiln.review import deadlines, queries, services, workflow
from kiln.review.errors import ReviewError
from kiln.review.models import Action, Submission

router = Router(tags=["review"])


class SubmissionOut(Schema):
    id: int
    credit_code: str
    enterprise: str
    report_type: str
    period: str
    state: str
    revision: int
    version: int | None
    total_co2_t: float | None
    deadline: str
    submitted_at: str | None
    available_transitions: list[str]


class VersionOut(Schema):
    number: int
    run: int
    figures_sha256: str
    rows_sha256: str
    created: str
    total_co2_t: float


class DiffOut(Schema):
    key: str
    label: str
    unit: str
    old: float | None
    new: float | None
    delta: float


class CommentIn(Schema):
    item: str = ""
    text: str


class TransitionIn(Schema):
    action: str
    version: int | None = None
    comment: str = ""
    comments: list[CommentIn] = []


class ErrorOut(Schema):
    code: str
    message: str


def _membership(request):
    membership = current_membership(request)
    if membership is None:
        raise HttpError(404, "Not Found")
    return membership


def _out(sub: Submission, request, membership) -> dict:
    version = sub.current_version
    return {
        "id": sub.pk,
        "credit_code": sub.enterprise.credit_code or "",
        "enterprise": sub.enterprise.name,
        "report_type": sub.report_type,
        "period": sub.period,
        "state": sub.state,
        "revision": sub.version,
        "version": version.number if version else None,
        "total_co2_t": version.figures.get("total_co2_t") if version else None,
        "deadline": deadlines.deadline_of(sub).isoformat(),
        "submitted_at": sub.submitted_at.isoformat() if sub.submitted_at else None,
        "available_transitions": workflow.available_transitions(sub, request.user, membership),
    }


@router.get("/submissions", response=list[SubmissionOut])
def submissions(request, state: str = "", year: int | None = None, limit: int = 200):
    membership = _membership(request)
    qs = queries.visible_submissions(membership)
    if state:
        qs = qs.filter(state=state)
    if year:
        qs = qs.filter(year=year)
    return [_out(s, request, membership) for s in qs[: max(1, min(limit, 1000))]]


@router.get("/submissions/{submission_id}", response=SubmissionOut)
def submission(request, submission_id: int):
    membership = _membership(request)
    sub = get_object_or_404(queries.visible_submissions(membership), pk=submission_id)
    return _out(sub, request, membership)


@router.get("/submissions/{submission_id}/versions", response=list[VersionOut])
def versions(request, submission_id: int):
    membership = _membership(request)
    sub = get_object_or_404(queries.visible_submissions(membership), pk=submission_id)
    return [
        {
            "number": v.number,
            "run": v.run_id,
            "figures_sha256": v.figures_sha256,
            "rows_sha256": v.rows_sha256,
            "created": v.created.isoformat(),
            "total_co2_t": v.figures.get("total_co2_t", 0.0),
        }
        for v in sub.versions.order_by("number")
    ]


@router.get("/submissions/{submission_id}/diff", response=list[DiffOut])
def diff(request, submission_id: int, old: int, new: int):
    membership = _membership(request)
    sub = get_object_or_404(queries.visible_submissions(membership), pk=submission_id)
    a = get_object_or_404(sub.versions, number=old)
    b = get_object_or_404(sub.versions, number=new)
    return services.diff(a, b)


@router.post(
    "/submissions/{submission_id}/transitions", response={200: SubmissionOut, 409: ErrorOut, 422: ErrorOut}
)
def transition(request, submission_id: int, body: TransitionIn):
    membership = _membership(request)
    sub = get_object_or_404(queries.visible_submissions(membership), pk=submission_id)
    if body.action not in Action.values:
        return Status(422, {"code": "REV-UNKNOWN-ACTION", "message": f"unknown action {body.action!r}"})
    try:
        sub = services.transition(
            sub,
            body.action,
            actor=request.user,
            membership=membership,
            request=request,
            expected_version=body.version,
            comment=body.comment,
            comments=[(c.item, c.text) for c in body.comments],
        )
    except ReviewError as exc:
        return Status(409, {"code": exc.code, "message": exc.message})
    sub.refresh_from_db()
    return Status(200, _out(sub, request, membership))
