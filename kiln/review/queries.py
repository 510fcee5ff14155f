"""Scoped reads of the review app: which submissions, assignments and draws a membership may see."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from kiln.accounts.models import Membership, User
from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm, Role, permissions_of
from kiln.registry.models import Organisation, Region
from kiln.registry.queries import visible_enterprises
from kiln.review import workflow
from kiln.review.models import (
    ConsultancyEngagement,
    ReportType,
    SelfCheck,
    State,
    Submission,
    VerificationAssignment,
)


def assigned_enterprise_ids(membership: Membership, today=None) -> QuerySet:
    """Enterprise ids a third party may see now: its verifiers their live assignments, its consultants
    their running engagements (a subquery: ``visible_enterprises`` stays one query)."""
    today = today or timezone.localdate()
    org_id = membership.organisation_id
    if membership.role == Role.VERIFIER:
        return (
            VerificationAssignment.objects.filter(agency_id=org_id, access_until__gte=today)
            .exclude(status=VerificationAssignment.Status.WITHDRAWN)
            .values("enterprise_id")
        )
    if membership.role == Role.CONSULTANT:
        return ConsultancyEngagement.objects.filter(
            Q(ends__isnull=True) | Q(ends__gte=today), agency_id=org_id, starts__lte=today
        ).values("enterprise_id")
    return VerificationAssignment.objects.none().values("enterprise_id")


def visible_submissions(membership: Membership | None) -> QuerySet[Submission]:
    qs = Submission.objects.select_related(
        "enterprise__region",
        "enterprise__industry",
        "current_version",
        "preliminary_reviewer",
        "final_reviewer",
    )
    if membership is None or not membership.active:
        return qs.none()
    if membership.organisation.kind == Organisation.Kind.THIRD_PARTY:
        if membership.role != Role.VERIFIER:
            return qs.none()
        live = VerificationAssignment.objects.filter(
            agency_id=membership.organisation_id,
            enterprise=OuterRef("enterprise"),
            year=OuterRef("year"),
            access_until__gte=timezone.localdate(),
        ).exclude(status=VerificationAssignment.Status.WITHDRAWN)
        return qs.filter(Exists(live))
    if membership.organisation.kind == Organisation.Kind.GRID:
        return qs.none()
    return qs.filter(enterprise__in=visible_enterprises(membership))


def _government_with(membership: Membership | None, perm: str) -> bool:
    """An active government (or platform-wide) membership holding ``perm``."""
    return (
        membership is not None
        and membership.active
        and membership.has_perm(perm)
        and (
            membership.organisation.kind == Organisation.Kind.GOVERNMENT
            or membership.role in PLATFORM_WIDE_ROLES
        )
    )


def is_reviewer(membership: Membership | None) -> bool:
    return _government_with(membership, Perm.REVIEW)


def can_view_supervision(membership: Membership | None) -> bool:
    """The membership may follow supervision (queue, reports, sampling, deadlines) of its region read-only:
    reviewers, viewers and auditors all hold VIEW_SUPERVISION (kiln.accounts.roles). Acting stays
    ``is_reviewer`` and the workflow's guards."""
    return _government_with(membership, Perm.VIEW_SUPERVISION)


def is_verifier(membership: Membership | None) -> bool:
    return (
        membership is not None
        and membership.active
        and membership.has_perm(Perm.VERIFY)
        and (membership.organisation.kind == Organisation.Kind.THIRD_PARTY)
    )


# The reviewer queue's groups, in order: waiting for a reviewer's action, being corrected, finished.
QUEUE_RANK = {
    State.SUBMITTED: 0,
    State.PRELIMINARY: 0,
    State.FINAL: 0,
    State.RETURNED: 1,
    State.DRAFT: 2,
    State.APPROVED: 3,
}


def queue(
    membership: Membership,
    *,
    state: str = "",
    year: str = "",
    region: str = "",
    industry: str = "",
    report_type: str = "",
    mine: bool = False,
    q: str = "",
) -> QuerySet[Submission]:
    """The reviewer queue, filtered: reports waiting for a reviewer's action (submitted, in preliminary or
    final review) first, oldest submission first so deadlines are not missed; then returned and draft
    reports; approved ones last (one query)."""
    qs = visible_submissions(membership)
    qs = qs.filter(state=state) if state else qs.exclude(state=State.DRAFT)
    if year.isdigit():
        qs = qs.filter(year=int(year))
    if region:
        qs = qs.filter(
            Q(enterprise__region__path__contains=f"/{region}/")
            | Q(enterprise__region__path__startswith=f"{region}/")
        )
    if industry:
        qs = qs.filter(enterprise__industry__code__startswith=industry)
    if report_type in ReportType.values:
        qs = qs.filter(report_type=report_type)
    if mine:
        qs = qs.filter(Q(preliminary_reviewer=membership.user) | Q(final_reviewer=membership.user))
    if q:
        qs = qs.filter(Q(enterprise__name__icontains=q) | Q(enterprise__credit_code__icontains=q))
    rank = Case(
        *(When(state=value, then=Value(n)) for value, n in QUEUE_RANK.items()),
        default=Value(max(QUEUE_RANK.values()) + 1),
        output_field=IntegerField(),
    )
    return qs.order_by(
        rank, F("submitted_at").asc(nulls_last=True), "enterprise__credit_code", "period", "pk"
    )


def stale_run_submissions(membership: Membership, limit: int = 50) -> list[Submission]:
    """Reports being corrected (draft, returned) whose latest self-check found the official calculation out
    of date: they cannot be submitted until a city or provincial reviewer recalculates."""
    from kiln.review.selfcheck import reports_stale_run

    latest = SelfCheck.objects.filter(submission=OuterRef("pk")).order_by("-run_at", "-id").values("pk")[:1]
    candidates = (
        visible_submissions(membership)
        .filter(state__in=workflow.EDITABLE)
        .annotate(latest_check=Subquery(latest))
        .filter(latest_check__isnull=False)
    )
    checks = SelfCheck.objects.filter(pk__in=candidates.values("latest_check"), errors__gt=0).only(
        "submission_id", "results"
    )
    ids = [c.submission_id for c in checks if reports_stale_run(c)]
    return list(
        visible_submissions(membership)
        .filter(pk__in=ids)
        .order_by("year", "period", "enterprise__credit_code")[:limit]
    )


# The annual report as the government has it: submitted, in review or approved (not being drafted or corrected).
SUBMITTED_STATES = (State.SUBMITTED, State.PRELIMINARY, State.FINAL, State.APPROVED)
ANNUAL_SCHEMA = {
    "credit_code": pl.String,
    "year": pl.Int32,
    "item": pl.String,
    "facility": pl.String,
    "quantity": pl.Float64,
}


def annual_figures(enterprises, years: Iterable[int], *, exclude: int | None = None) -> pl.DataFrame:
    """The submitted annual reports' activity totals (their current version's figures snapshot, items
    ``activity:<item>:<facility>``, canonical units) of ``enterprises`` (a queryset) for ``years``: the
    annual side of screening rule KLN-XSRC-003. ``exclude``: a submission to leave out (its own self-check)."""
    subs = Submission.objects.filter(
        report_type=ReportType.ANNUAL,
        year__in=list(years),
        state__in=SUBMITTED_STATES,
        current_version__isnull=False,
        enterprise__in=enterprises.values("pk"),
    )
    if exclude is not None:
        subs = subs.exclude(pk=exclude)
    rows = []
    for code, year, figures in subs.values_list(
        "enterprise__credit_code", "year", "current_version__figures"
    ).iterator(chunk_size=500):
        for key, item in (figures or {}).get("items", {}).items():
            kind, _sep, rest = key.partition(":")
            if kind != "activity" or item.get("value") is None:
                continue
            code_item, _sep, facility = rest.partition(":")
            rows.append(
                (code, year, code_item, "" if facility in ("", "None") else facility, float(item["value"]))
            )
    return pl.DataFrame(rows, schema=ANNUAL_SCHEMA, orient="row")


def reviewers_for(submission: Submission, stage: str, *, ignore_assignment: bool = False) -> list[User]:
    """Users who could do ``stage`` ('preliminary' or 'final') of the submission's review."""
    enterprise = submission.enterprise
    codes = [c for c in enterprise.region.path.strip("/").split("/") if c]
    levels = workflow.PRELIMINARY_LEVELS if stage == "preliminary" else workflow.FINAL_LEVELS
    roles = [r for r in Role if Perm.REVIEW in permissions_of(r)]
    memberships = Membership.objects.filter(
        active=True,
        role__in=roles,
        organisation__kind=Organisation.Kind.GOVERNMENT,
        organisation__region__code__in=codes,
        organisation__region__level__in=list(levels),
    )
    users = list(
        User.objects.filter(memberships__in=memberships, is_active=True).distinct().order_by("username")
    )
    if stage == "preliminary":
        verifiers = (
            VerificationAssignment.objects.filter(
                enterprise=enterprise, year=submission.year, access_until__gte=timezone.localdate()
            )
            .exclude(status=VerificationAssignment.Status.WITHDRAWN)
            .values("agency_id")
        )
        users += list(
            User.objects.filter(
                memberships__organisation_id__in=verifiers,
                memberships__role=Role.VERIFIER,
                memberships__active=True,
                is_active=True,
            ).distinct()
        )
    if not ignore_assignment:
        assignee = submission.preliminary_reviewer if stage == "preliminary" else submission.final_reviewer
        if assignee is not None:
            return [assignee]
    return users


def assignments_for(membership: Membership | None) -> QuerySet[VerificationAssignment]:
    """Verification assignments the membership sees: a body its own (live ones), government its region's."""
    qs = VerificationAssignment.objects.select_related("agency", "enterprise__region", "assigned_by")
    if membership is None or not membership.active:
        return qs.none()
    if is_verifier(membership):
        return qs.filter(
            agency_id=membership.organisation_id, access_until__gte=timezone.localdate()
        ).exclude(status=VerificationAssignment.Status.WITHDRAWN)
    if is_reviewer(membership):
        return qs.filter(enterprise__in=visible_enterprises(membership))
    return qs.none()


def city_regions(membership: Membership) -> QuerySet[Region]:
    from kiln.registry.queries import visible_regions

    return (
        visible_regions(membership)
        .filter(level__in=[Region.Level.CITY, Region.Level.COUNTY])
        .order_by("code")
    )


def report_quality(enterprise, year: int, month: str | None) -> dict:
    """What a report says about the review of its period: self-check, acknowledged warnings, state, verification."""
    period = month or str(year)
    report_type = ReportType.MONTHLY if month else ReportType.ANNUAL
    sub = Submission.objects.filter(enterprise=enterprise, report_type=report_type, period=period).first()
    out: dict = {}
    if sub is not None:
        check = sub.self_checks.order_by("-run_at", "-id").first()
        if check is not None:
            out["self_check"] = {
                "errors": check.errors,
                "warnings": check.warnings,
                "summary": f"{timezone.localtime(check.run_at):%Y-%m-%d %H:%M} · E{check.errors} / W{check.warnings}",
            }
        out["acknowledged"] = [
            {"code": a.code, "message": a.message, "explanation": a.explanation}
            for a in sub.acknowledgements.all()
        ]
        out["review_state"] = sub.get_state_display()
    if not month:
        assignment = (
            VerificationAssignment.objects.filter(enterprise=enterprise, year=year)
            .exclude(status=VerificationAssignment.Status.WITHDRAWN)
            .select_related("agency")
            .first()
        )
        if assignment is not None:
            out["verification"] = f"{assignment.agency.name}: " + (
                assignment.get_conclusion_display()
                if assignment.conclusion
                else assignment.get_status_display()
            )
    return out
