"""Screening API: findings (scoped), their transitions, the current rules, warning levels and on-demand runs."""

from __future__ import annotations

import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from kiln.accounts.current import current_membership
from kiln.accounts.models import User
from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.registry.queries import visible_regions
from kiln.screening import display, queries, services, workflow
from kiln.screening.errors import ScreeningError
from kiln.screening.models import OPEN_STATUSES
from kiln.screening.warnings import warning_tables

router = Router(tags=["screening"])


class FindingOut(Schema):
    id: int
    rule_id: str
    rule_version: int
    severity: str
    family: str
    credit_code: str
    period: str
    item: str
    facility: str
    value: float | None
    low: float | None
    high: float | None
    reference: float | None
    score: float | None
    message: str
    status: str
    level: str
    assignee: str | None
    deadline: str | None
    present_in_latest: bool
    available_transitions: list[str]


class TransitionIn(Schema):
    action: str
    comment: str = ""
    assignee: int | None = None
    deadline: datetime.date | None = None
    answer_kind: str = ""


class ErrorOut(Schema):
    code: str
    message: str


class RuleOut(Schema):
    rule_id: str
    version: int
    check: str
    family: str
    severity: str
    sector: str
    item: str
    parameter: str
    low: float | None
    high: float | None
    params: dict
    route_to: str
    enabled: bool
    used: bool


class RunIn(Schema):
    period: str | None = None
    year: int | None = None
    region_code: str | None = None


class RunOut(Schema):
    id: int
    first_period: str
    last_period: str
    region_code: str | None
    input_rows: int
    enterprises: int
    findings_total: int
    findings_new: int
    skipped: list
    timings: dict
    elapsed_ms: int


class LevelRow(Schema):
    key: str
    name: str
    level: str
    enterprises: int
    red: int
    yellow: int
    blue: int


class WarningsOut(Schema):
    totals: dict[str, int]
    counties: list[LevelRow]
    industries: list[LevelRow]


def _finding(f, membership) -> dict:
    return {
        "id": f.pk,
        "rule_id": f.rule_id,
        "rule_version": f.rule_version.version,
        "severity": f.severity,
        "family": f.family,
        "credit_code": f.enterprise.credit_code,
        "period": f.period,
        "item": f.item,
        "facility": f.facility,
        "value": f.value,
        "low": f.low,
        "high": f.high,
        "reference": f.reference,
        "score": f.score,
        "message": display.message(f),
        "status": f.status,
        "level": f.level,
        "assignee": f.assignee.username if f.assignee else None,
        "deadline": f.deadline.isoformat() if f.deadline else None,
        "present_in_latest": f.present_in_latest,
        "available_transitions": workflow.available_transitions(f, membership),
    }


@router.get("/findings", response=list[FindingOut])
def list_findings(
    request,
    status: str | None = None,
    level: str | None = None,
    rule_id: str | None = None,
    period: str | None = None,
    credit_code: str | None = None,
    limit: int = 200,
):
    membership = current_membership(request)
    qs = queries.visible_findings(membership)
    qs = qs.filter(status=status) if status else qs.filter(status__in=OPEN_STATUSES)
    for value, lookup in (
        (level, "level"),
        (rule_id, "rule_id"),
        (period, "period"),
        (credit_code, "enterprise__credit_code"),
    ):
        if value:
            qs = qs.filter(**{lookup: value})
    return [_finding(f, membership) for f in qs.order_by("-id")[: max(1, min(limit, 1000))]]


@router.get("/findings/{finding_id}", response=FindingOut)
def get_finding(request, finding_id: int):
    membership = current_membership(request)
    return _finding(get_object_or_404(queries.visible_findings(membership), pk=finding_id), membership)


@router.post("/findings/{finding_id}/transitions", response={200: FindingOut, 409: ErrorOut})
def post_transition(request, finding_id: int, body: TransitionIn):
    membership = current_membership(request)
    finding = get_object_or_404(queries.visible_findings(membership), pk=finding_id)
    assignee = User.objects.filter(pk=body.assignee).first() if body.assignee else None
    try:
        moved = services.transition(
            finding,
            body.action,
            actor=request.user,
            membership=membership,
            comment=body.comment,
            assignee=assignee,
            deadline=body.deadline,
            answer_kind=body.answer_kind,
        )
    except ScreeningError as exc:
        return Status(409, {"code": exc.code, "message": exc.message})
    moved = queries.visible_findings(membership).get(pk=moved.pk)
    return _finding(moved, membership)


@router.get("/rules", response=list[RuleOut])
def list_rules(request):
    if not queries.sees_screening(current_membership(request)):
        raise HttpError(404, "Not found")
    return [
        {
            "rule_id": r.rule_id,
            "version": r.version,
            "check": r.engine_check,
            "family": r.family,
            "severity": r.severity,
            "sector": r.sector,
            "item": r.item,
            "parameter": r.parameter,
            "low": r.low,
            "high": r.high,
            "params": r.params,
            "route_to": r.route_to,
            "enabled": r.enabled,
            "used": r.used,
        }
        for r in queries.current_rules(enabled_only=False)
    ]


@router.get("/warnings", response=WarningsOut)
def warnings(request, first: str = "", last: str = ""):
    membership = current_membership(request)
    if not queries.sees_screening(membership):
        raise HttpError(404, "Not found")
    t = warning_tables(membership, first=first, last=last)
    return {
        "totals": t["totals"],
        "counties": [
            {"key": r["region_code"], **{k: r[k] for k in LevelRow.model_fields if k != "key"}}
            for r in t["counties"]
        ],
        "industries": [
            {"key": r["division"], **{k: r[k] for k in LevelRow.model_fields if k != "key"}}
            for r in t["industries"]
        ],
    }


@router.post("/runs", response={201: RunOut, 400: ErrorOut})
def post_run(request, body: RunIn):
    membership = current_membership(request)
    if membership is None or not membership.has_perm(Perm.SCREEN):
        raise HttpError(404, "Not found")
    try:
        first, last = services.periods_for(period=body.period, year=body.year)
    except ScreeningError as exc:
        return Status(400, {"code": exc.code, "message": exc.message})
    region = None
    if body.region_code:
        region = visible_regions(membership).filter(code=body.region_code).first()
        if region is None:
            raise HttpError(404, "Not found")
    elif membership.role not in PLATFORM_WIDE_ROLES:
        region = membership.organisation.region
    run = services.run_screening(actor=request.user, trigger="manual", first=first, last=last, region=region)
    return Status(
        201,
        {
            "id": run.pk,
            "first_period": run.first_period,
            "last_period": run.last_period,
            "region_code": region.code if region else None,
            "input_rows": run.input_rows,
            "enterprises": run.enterprises,
            "findings_total": run.findings_total,
            "findings_new": run.findings_new,
            "skipped": run.skipped,
            "timings": run.timings,
            "elapsed_ms": run.elapsed_ms,
        },
    )
