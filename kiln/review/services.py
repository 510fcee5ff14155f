"""Every write of the review workflow (DESIGN.md rule 2): one function per change, atomic, audited.

A refusal is a ``ReviewError``: its transaction rolls back (nothing changes), then the refusal itself
is written to the audit log in a transaction of its own, so attempts out of turn leave a trace.
Concurrency: the submission row is locked (``select_for_update``) and changed with a
compare-and-set on ``Submission.version``; a form posts the version it showed, and whoever comes
second gets ``REV-STALE``.
"""

from __future__ import annotations

import datetime
import functools

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kiln.accounting import services as accounting
from kiln.accounting.queries import official_run
from kiln.accounts.models import Membership
from kiln.accounts.roles import Perm
from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.intake import services as intake_services
from kiln.notifications import services as notifications
from kiln.registry.models import Enterprise
from kiln.reports import content
from kiln.reports.errors import ReportError
from kiln.review import deadlines, errors, selfcheck, workflow
from kiln.review.errors import ReviewError
from kiln.review.models import (
    Acknowledgement,
    Action,
    ExtensionRequest,
    InformationRequest,
    ReportType,
    ReviewComment,
    SelfCheck,
    State,
    Submission,
    SubmissionVersion,
    Transition,
    VerificationAssignment,
)

# A refusal is an ACTION_REFUSED event whose ``after`` says ``{"refused": <action>, "code": <REV-…>}``.
REFUSED = EventType.ACTION_REFUSED


def audit_refusal(error: ReviewError, *, actor, target, action: str, request=None, **details) -> None:
    """Record a refusal in a transaction of its own (the refused change itself was rolled back)."""
    organisation = getattr(target, "enterprise", None) or getattr(
        getattr(target, "submission", None), "enterprise", None
    )
    if organisation is None and isinstance(target, Enterprise):
        organisation = target
    with transaction.atomic():
        record(
            REFUSED,
            actor=actor,
            target=target,
            request=request,
            organisation=organisation,
            after={"refused": action, "code": error.code, **details},
        )


def refusals_audited(action: str):
    """Decorator: a ``ReviewError`` from the service is audited against its first argument, then re-raised."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(obj, *args, actor=None, request=None, **kwargs):
            try:
                return fn(obj, *args, actor=actor, request=request, **kwargs)
            except ReviewError as exc:
                audit_refusal(exc, actor=actor, target=obj, action=action, request=request)
                raise

        return inner

    return wrap


def acting_label(membership: Membership | None) -> str:
    if membership is None:
        return ""
    return f"{membership.organisation.name} · {membership.get_role_display()}"[:300]


def _locked(submission: Submission, expected_version: int | None = None) -> Submission:
    sub = (
        # Lock only the submission row: PostgreSQL cannot lock the nullable side of an outer join.
        Submission.objects.select_for_update(of=("self",))
        .select_related("enterprise__region", "enterprise__industry", "current_version")
        .get(pk=submission.pk)
    )
    if expected_version is not None and sub.version != expected_version:
        raise ReviewError(errors.STALE)
    return sub


def _save(sub: Submission, **fields) -> None:
    """Compare-and-set: write ``fields`` only if nobody changed the submission since it was read."""
    changed = Submission.objects.filter(pk=sub.pk, version=sub.version).update(
        version=F("version") + 1, updated=timezone.now(), **fields
    )
    if not changed:
        raise ReviewError(errors.STALE)
    for name, value in fields.items():
        setattr(sub, name, value)
    sub.version += 1


def _require_enterprise(sub: Submission, membership, perm: str = Perm.SUBMIT_DATA) -> None:
    if not workflow.is_enterprise_member(membership, sub.enterprise, perm):
        raise ReviewError(errors.NOT_YOUR_TURN)


def _require_editable(sub: Submission) -> None:
    if sub.state == State.APPROVED:
        raise ReviewError(errors.LOCKED)
    if sub.state not in workflow.EDITABLE:
        raise ReviewError(errors.NOT_ALLOWED_NOW, state=sub.get_state_display())


def _url(sub: Submission) -> str:
    return reverse("review:detail", args=[sub.pk])


# --- opening a submission ------------------------------------------------------------------------------------


def open_submission(enterprise: Enterprise, period: str, *, actor, membership, request=None) -> Submission:
    """The enterprise's submission for ``period`` (YYYY: annual, YYYY-MM: monthly), created as a draft."""
    try:
        year, month = content.parse_period(period)
    except ReportError as exc:
        error = ReviewError(errors.BAD_PERIOD)
        audit_refusal(error, actor=actor, target=enterprise, action="open", request=request, period=period)
        raise error from exc
    if not workflow.is_enterprise_member(membership, enterprise):
        error = ReviewError(errors.NOT_YOUR_TURN)
        audit_refusal(error, actor=actor, target=enterprise, action="open", request=request, period=period)
        raise error
    report_type = ReportType.MONTHLY if month else ReportType.ANNUAL
    with transaction.atomic():
        sub, created = Submission.objects.get_or_create(
            enterprise=enterprise, report_type=report_type, period=month or str(year), defaults={"year": year}
        )
        if created:
            record(
                EventType.DATA_CREATED,
                actor=actor,
                target=sub,
                organisation=enterprise,
                request=request,
                after={"period": sub.period, "report_type": report_type},
            )
    return sub


# --- self-check and acknowledgements -----------------------------------------------------------------------


@refusals_audited("self_check")
def run_self_check(submission: Submission, *, actor=None, request=None, membership, today=None) -> SelfCheck:
    with transaction.atomic():
        sub = _locked(submission)
        _require_enterprise(sub, membership)
        _require_editable(sub)
        return _store_check(sub, actor=actor, request=request, today=today)


def _store_check(sub: Submission, *, actor, request, today) -> SelfCheck:
    """Run every check on the (locked) submission and keep the result; the caller holds the transaction."""
    result = selfcheck.run_checks(sub.enterprise, sub.year, sub.month, today=today)
    findings = result["findings"]
    check = SelfCheck.objects.create(
        submission=sub,
        data_sha256=result["data_sha256"],
        results=findings,
        skipped=result["skipped"],
        errors=sum(1 for f in findings if f["severity"] == selfcheck.ERROR),
        warnings=sum(1 for f in findings if f["severity"] == selfcheck.WARNING),
        run_by=actor if getattr(actor, "pk", None) else None,
    )
    _save(sub)
    record(
        EventType.DATA_CREATED,
        actor=actor,
        target=check,
        organisation=sub.enterprise,
        request=request,
        after={
            "submission": sub.pk,
            "errors": check.errors,
            "warnings": check.warnings,
            "data_sha256": check.data_sha256,
        },
    )
    return check


def stale_run(sub: Submission, membership=None) -> bool:
    """The report is being corrected and its latest self-check says the official calculation is out of
    date (with ``membership``: and that membership may recalculate it)."""
    if sub.state not in workflow.EDITABLE or not selfcheck.reports_stale_run(latest_check(sub)):
        return False
    if membership is None:
        return True
    return workflow.can_recalculate(membership, sub, official_run(sub.enterprise.region, sub.year))


@refusals_audited("recalculate")
def recalculate(
    submission: Submission,
    *,
    actor=None,
    request=None,
    membership,
    expected_version: int | None = None,
    today=None,
) -> tuple[SelfCheck, object]:
    """A city or provincial reviewer redoes the official calculation a correction made out of date, then
    runs the self-check again, so the corrected report is not stranded (REV-SC-RUN-STALE blocks submitting).

    The new run covers the old official run's region and year with the same factor set and grid series
    and becomes the official one (the old run stays, DESIGN.md rule 7). When the run is no longer out of
    date (someone recalculated meanwhile) only the self-check runs again. Returns (self-check, new run or None).
    """
    with transaction.atomic():
        sub = _locked(submission, expected_version)
        if sub.state not in workflow.EDITABLE:
            raise ReviewError(errors.NOT_ALLOWED_NOW, state=sub.get_state_display())
        if not selfcheck.reports_stale_run(latest_check(sub)):
            raise ReviewError(errors.RUN_NOT_STALE)
        run = official_run(sub.enterprise.region, sub.year)
        if run is None:
            raise ReviewError(errors.NO_RESULTS)
        if not workflow.can_recalculate(membership, sub, run):
            raise ReviewError(errors.NOT_YOUR_TURN)
        new_run = None
        if selfcheck.run_is_stale(run, sub.enterprise, sub.year, sub.month):
            factor_set = run.factor_sets.first()
            if factor_set is None:
                raise ReviewError(errors.RECALCULATION_FAILED, detail=_("the run has no factor set"))
            try:
                new_run = accounting.calculate(
                    actor=actor,
                    region=run.region,
                    year=run.year,
                    factor_set=factor_set,
                    grid_series=run.grid_series,
                )
            except accounting.RunError as exc:
                raise ReviewError(errors.RECALCULATION_FAILED, detail=str(exc.message)) from exc
        check = _store_check(sub, actor=actor, request=request, today=today)
        record(
            EventType.DATA_UPDATED,
            actor=actor,
            target=sub,
            organisation=sub.enterprise,
            request=request,
            before={"official_run": run.pk},
            after={
                "recalculated": new_run is not None,
                "official_run": (new_run or run).pk,
                "self_check": check.pk,
                "errors": check.errors,
                "warnings": check.warnings,
            },
        )
        notifications.notify(
            notifications.members_with(sub.enterprise),
            kind="review",
            key=f"recalculated:{sub.pk}:{check.pk}",
            title=_(
                "%(enterprise)s %(period)s: the official calculation was redone and the self-check run again"
            )
            % {"enterprise": sub.enterprise.name, "period": sub.period},
            body=_("Self-check: %(errors)d blocking errors, %(warnings)d warnings.")
            % {"errors": check.errors, "warnings": check.warnings},
            url=_url(sub),
        )
    return check, new_run


def latest_check(sub: Submission) -> SelfCheck | None:
    return sub.self_checks.order_by("-run_at", "-id").first()


def open_warnings(sub: Submission, check: SelfCheck | None = None) -> list[dict]:
    check = check or latest_check(sub)
    if check is None:
        return []
    acknowledged = set(sub.acknowledgements.values_list("key", flat=True))
    return [f for f in check.results if f["severity"] == selfcheck.WARNING and f["key"] not in acknowledged]


@refusals_audited("acknowledge")
def acknowledge(
    submission: Submission, key: str, explanation: str, *, actor=None, request=None, membership
) -> Acknowledgement:
    explanation = (explanation or "").strip()
    with transaction.atomic():
        sub = _locked(submission)
        _require_enterprise(sub, membership)
        _require_editable(sub)
        if not explanation:
            raise ReviewError(errors.EXPLANATION_REQUIRED)
        check = latest_check(sub)
        found = next(
            (
                f
                for f in (check.results if check else [])
                if f["key"] == key and f["severity"] == selfcheck.WARNING
            ),
            None,
        )
        if found is None:
            raise ReviewError(errors.UNKNOWN_FINDING)
        before = Acknowledgement.objects.filter(submission=sub, key=key).first()
        ack, _created = Acknowledgement.objects.update_or_create(
            submission=sub,
            key=key,
            defaults={
                "code": found["code"],
                "message": found["message"],
                "explanation": explanation[:4000],
                "by": actor if getattr(actor, "pk", None) else None,
            },
        )
        _save(sub)
        record(
            EventType.DATA_UPDATED if before else EventType.DATA_CREATED,
            actor=actor,
            target=ack,
            organisation=sub.enterprise,
            request=request,
            before={"explanation": before.explanation} if before else None,
            after={"key": key, "explanation": ack.explanation},
        )
    return ack


def submit_blockers(sub: Submission) -> list[str]:
    """Why the enterprise cannot submit yet (codes), empty when it can."""
    check = latest_check(sub)
    if check is None:
        return [errors.SELF_CHECK_MISSING]
    if check.data_sha256 != selfcheck.data_sha256(sub.enterprise, content.periods_of(sub.year, sub.month)):
        return [errors.SELF_CHECK_STALE]
    out = []
    if check.errors:
        out.append(errors.SELF_CHECK_ERRORS)
    if open_warnings(sub, check):
        out.append(errors.WARNINGS_OPEN)
    return out


# --- versions and their differences ---------------------------------------------------------------------


def snapshot(report: dict) -> dict:
    """The figures of a report that reviewers compare between versions, keyed by data item."""
    return {
        "total_co2_t": report["total_co2_t"],
        "biomass_co2_t": report["biomass_co2_t"],
        "total_tce": report["total_tce"],
        "run": report["run"]["id"],
        "factor_set": report["factor_set"],
        "items": {
            "total": {"label": _("Total emissions"), "value": report["total_co2_t"], "unit": "tCO2e"},
            **{
                f"category:{c['category']}": {"label": c["label"], "value": c["co2_t"], "unit": "tCO2e"}
                for c in report["by_category"]
            },
            **{
                f"month:{m['period']}": {"label": m["period"], "value": m["co2_t"], "unit": "tCO2e"}
                for m in report["monthly"]
            },
            **{
                f"source:{s['category']}:{s['item']}:{s['facility']}:{s['formula']}": {
                    "label": " · ".join(
                        p for p in (s["category_label"], s["item_label"], s["facility"]) if p
                    ),
                    "value": s["co2_t"],
                    "unit": "tCO2e",
                }
                for s in report["sources"]
            },
            **{
                f"activity:{a['item']}:{a['facility']}": {
                    "label": " · ".join(p for p in (a["item_label"], a["facility"]) if p),
                    "value": a["quantity"],
                    "unit": a["unit"],
                }
                for a in report["activity"]
            },
        },
    }


def diff(old: SubmissionVersion | None, new: SubmissionVersion) -> list[dict]:
    """Data items whose value changed between two versions (added and removed items included)."""
    if old is None:
        return []
    before, after = old.figures.get("items", {}), new.figures.get("items", {})
    out = []
    for key in list(after) + [k for k in before if k not in after]:
        a, b = before.get(key), after.get(key)
        va = a["value"] if a else None
        vb = b["value"] if b else None
        if va is not None and vb is not None and abs((va or 0) - (vb or 0)) <= 1e-9 * max(1.0, abs(va or 0)):
            continue
        if va is None and vb is None:
            continue
        out.append(
            {
                "key": key,
                "label": label_for(key, (b or a)["label"]),
                "unit": (b or a)["unit"],
                "old": va,
                "new": vb,
                "delta": (vb or 0) - (va or 0),
            }
        )
    return out


def label_for(key: str, fallback: str = "") -> str:
    """A data item's name in the current language, from its key (snapshots keep keys, not words)."""
    from kiln.accounting import labels

    kind, _sep, rest = key.partition(":")
    try:
        if kind == "total":
            return str(_("Total emissions"))
        if kind == "general":
            return str(_("the report as a whole"))
        if kind == "category":
            return str(labels.CATEGORY.get(rest, rest))
        if kind == "month":
            return rest
        if kind == "source":
            category, item, tail = rest.split(":", 2)
            facility, formula = tail.rsplit(":", 1)
            name = content.item_label(item) + (" (PFCs)" if formula == "al_pfc" else "")
            return " · ".join(p for p in (str(labels.CATEGORY.get(category, category)), name, facility) if p)
        if kind == "activity":
            item, facility = rest.split(":", 1)
            return " · ".join(p for p in (content.item_label(item), facility) if p)
    except ValueError:
        pass
    return fallback or key


def item_choices(version: SubmissionVersion | None) -> list[tuple[str, str]]:
    if version is None:
        return []
    return [(key, label_for(key, item["label"])) for key, item in version.figures.get("items", {}).items()]


def _new_version(sub: Submission, *, actor, note: str) -> SubmissionVersion:
    run = official_run(sub.enterprise.region, sub.year)
    if run is None:
        raise ReviewError(errors.NO_RESULTS)
    try:
        report = content.build(sub.enterprise, sub.year, sub.month, run=run, with_chart=False)
    except ReportError as exc:
        raise ReviewError(errors.NO_RESULTS) from exc
    periods = content.periods_of(sub.year, sub.month)
    number = (sub.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return SubmissionVersion.objects.create(
        submission=sub,
        number=number,
        run_id=report["run"]["id"],
        figures=snapshot(report),
        figures_sha256=report["figures_sha256"],
        rows_sha256=content.enterprise_rows_sha256(run, sub.enterprise.credit_code or "", periods),
        data_sha256=selfcheck.data_sha256(sub.enterprise, periods),
        note=note[:4000],
        created_by=actor if getattr(actor, "pk", None) else None,
    )


# --- transitions -------------------------------------------------------------------------------------------


def _check_comments(sub: Submission, comments) -> list[tuple[str, str, str]]:
    choices = dict(item_choices(sub.current_version))
    out = []
    for key, text in comments:
        text = (text or "").strip()
        if not text:
            continue
        if key and key not in choices:
            raise ReviewError(errors.BAD_ITEM)
        out.append((key or "general", choices.get(key, _("the report as a whole")), text))
    return out


def _lock_months(sub: Submission, actor) -> None:
    reason = _("Approved %(type)s %(period)s (submission #%(id)s)") % {
        "type": sub.get_report_type_display(),
        "period": sub.period,
        "id": sub.pk,
    }
    for period in content.periods_of(sub.year, sub.month):
        intake_services.freeze_month(sub.enterprise, period, actor=actor, reason=reason)


def _notify_transition(sub: Submission, action: str) -> None:
    from kiln.review import queries

    labels = dict(Action.choices)
    title = _("%(enterprise)s %(period)s: %(action)s") % {
        "enterprise": sub.enterprise.name,
        "period": sub.period,
        "action": labels[action],
    }
    key = f"transition:{sub.pk}:{sub.version}"
    if action in (Action.RETURN, Action.APPROVE, Action.START_PRELIMINARY):
        users = notifications.members_with(sub.enterprise)
    elif action == Action.SUBMIT:
        users = (
            [sub.preliminary_reviewer]
            if sub.preliminary_reviewer
            else queries.reviewers_for(sub, "preliminary")
        )
    elif action == Action.PASS_PRELIMINARY:
        users = [sub.final_reviewer] if sub.final_reviewer else queries.reviewers_for(sub, "final")
    else:
        users = []
    notifications.notify(users, kind="review", key=key, title=title, url=_url(sub))


@refusals_audited("transition")
def transition(
    submission: Submission,
    action: str,
    *,
    actor=None,
    request=None,
    membership,
    expected_version: int | None = None,
    comment: str = "",
    comments=(),
    note: str = "",
) -> Submission:
    """Take ``action`` on the submission (see ``workflow.TRANSITIONS``)."""
    comment = (comment or "").strip()
    with transaction.atomic():
        sub = _locked(submission, expected_version)
        code = workflow.guard(sub, action, membership)
        if code:
            raise ReviewError(code, state=sub.get_state_display())
        before = sub.state
        to = workflow.target(sub.state, action)
        assert to is not None  # the guard checked the move exists
        fields: dict = {"state": to}
        version_number = sub.current_version.number if sub.current_version else None
        item_comments: list = []
        if action == Action.SUBMIT:
            blockers = submit_blockers(sub)
            if blockers:
                raise ReviewError(blockers[0])
            version = _new_version(sub, actor=actor, note=note or comment)
            version_number = version.number
            fields.update(current_version=version, submitted_at=timezone.now(), preliminary_passed_by=None)
        elif action == Action.START_PRELIMINARY:
            if sub.preliminary_reviewer_id is None:
                fields["preliminary_reviewer"] = actor
        elif action == Action.PASS_PRELIMINARY:
            if sub.information_requests.filter(answered_at__isnull=True).exists():
                raise ReviewError(errors.INFO_OPEN)
            fields["preliminary_passed_by"] = actor
        elif action == Action.RETURN:
            if before == State.FINAL and sub.final_reviewer_id is None:
                fields["final_reviewer"] = actor
            item_comments = _check_comments(sub, comments)
            if not comment and not item_comments:
                raise ReviewError(errors.COMMENT_REQUIRED)
        elif action == Action.APPROVE:
            if sub.information_requests.filter(answered_at__isnull=True).exists():
                raise ReviewError(errors.INFO_OPEN)
            _check_verification(sub)
            fields.update(approved_at=timezone.now(), approved_by=actor)
            if sub.final_reviewer_id is None:
                fields["final_reviewer"] = actor
        _save(sub, **fields)
        stage = "preliminary" if before == State.PRELIMINARY else "final"
        for key, label, text in item_comments:
            ReviewComment.objects.create(
                submission=sub,
                version=sub.current_version,
                stage=stage,
                item_key=key,
                item_label=label[:300],
                text=text,
                author=actor,
            )
        if action == Action.APPROVE:
            _lock_months(sub, actor)
        Transition.objects.create(
            submission=sub,
            action=action,
            from_state=before,
            to_state=to,
            actor=actor,
            acting_as=acting_label(membership),
            comment=comment,
            version_number=version_number,
        )
        record(
            EventType.DATA_SUBMITTED if action == Action.SUBMIT else EventType.DATA_UPDATED,
            actor=actor,
            target=sub,
            organisation=sub.enterprise,
            request=request,
            before={"state": before},
            after={"state": to, "action": action, "version": version_number, "comments": len(item_comments)},
        )
        _notify_transition(sub, action)
    return sub


def _check_verification(sub: Submission) -> None:
    """The verification conclusion feeds the final review: pending or negative blocks approval."""
    if sub.report_type != ReportType.ANNUAL:
        return
    assignment = (
        VerificationAssignment.objects.filter(enterprise=sub.enterprise, year=sub.year)
        .exclude(status=VerificationAssignment.Status.WITHDRAWN)
        .first()
    )
    if assignment is None:
        return
    if assignment.status != VerificationAssignment.Status.CONCLUDED:
        raise ReviewError(errors.VERIFICATION_PENDING)
    if assignment.conclusion == VerificationAssignment.Conclusion.NOT_CONFIRMED:
        raise ReviewError(errors.VERIFICATION_FAILED)


def bulk_transition(submissions, action: str, *, actor, membership, request=None) -> tuple[int, list[tuple]]:
    """The same action on many submissions, each on its own; returns (done, [(submission, error)])."""
    done, failed = 0, []
    for sub in submissions:
        try:
            transition(sub, action, actor=actor, membership=membership, request=request)
            done += 1
        except ReviewError as exc:
            failed.append((sub, exc))
    return done, failed


# --- comments, information requests, extensions, reassignment -----------------------------------------------


@refusals_audited("respond")
def respond_to_comment(
    comment: ReviewComment, text: str, *, actor=None, request=None, membership
) -> ReviewComment:
    text = (text or "").strip()
    with transaction.atomic():
        sub = _locked(comment.submission)
        _require_enterprise(sub, membership)
        _require_editable(sub)
        if not text:
            raise ReviewError(errors.EXPLANATION_REQUIRED)
        ReviewComment.objects.filter(pk=comment.pk).update(
            response=text[:4000], responded_by=actor, responded_at=timezone.now()
        )
        _save(sub)
        record(
            EventType.DATA_UPDATED,
            actor=actor,
            target=comment,
            organisation=sub.enterprise,
            request=request,
            after={"response": text[:4000]},
        )
    comment.refresh_from_db()
    return comment


def _require_reviewer_now(sub: Submission, membership) -> str:
    stage = workflow.stage_of(sub)
    if stage is None:
        if sub.state == State.APPROVED:
            raise ReviewError(errors.LOCKED)
        raise ReviewError(errors.NOT_ALLOWED_NOW, state=sub.get_state_display())
    allowed = (
        workflow.can_preliminary(membership, sub)
        if stage == "preliminary"
        else workflow.can_final(membership, sub)
    )
    if not allowed:
        raise ReviewError(errors.NOT_YOUR_TURN)
    return stage


@refusals_audited("request_information")
def request_information(
    submission: Submission,
    question: str,
    due: datetime.date | None = None,
    *,
    actor=None,
    request=None,
    membership,
) -> InformationRequest:
    question = (question or "").strip()
    with transaction.atomic():
        sub = _locked(submission)
        _require_reviewer_now(sub, membership)
        if not question:
            raise ReviewError(errors.QUESTION_REQUIRED)
        item = InformationRequest.objects.create(
            submission=sub, question=question[:4000], due=due, asked_by=actor
        )
        _save(sub)
        record(
            EventType.DATA_CREATED,
            actor=actor,
            target=item,
            organisation=sub.enterprise,
            request=request,
            after={"submission": sub.pk, "question": item.question, "due": due},
        )
        notifications.notify(
            notifications.members_with(sub.enterprise),
            kind="information",
            key=f"information:{item.pk}",
            title=_("Information requested: %(enterprise)s %(period)s")
            % {"enterprise": sub.enterprise.name, "period": sub.period},
            body=item.question,
            url=_url(sub),
        )
    return item


@refusals_audited("answer_information")
def answer_information(
    item: InformationRequest, answer: str, *, actor=None, request=None, membership
) -> InformationRequest:
    answer = (answer or "").strip()
    with transaction.atomic():
        sub = _locked(item.submission)
        _require_enterprise(sub, membership)
        if sub.state == State.APPROVED:
            raise ReviewError(errors.LOCKED)
        current = InformationRequest.objects.select_for_update().get(pk=item.pk)
        if current.answered_at is not None:
            raise ReviewError(errors.ALREADY_ANSWERED)
        if not answer:
            raise ReviewError(errors.EXPLANATION_REQUIRED)
        current.answer, current.answered_by, current.answered_at = answer[:4000], actor, timezone.now()
        current.save(update_fields=["answer", "answered_by", "answered_at"])
        _save(sub)
        record(
            EventType.DATA_UPDATED,
            actor=actor,
            target=current,
            organisation=sub.enterprise,
            request=request,
            after={"answer": current.answer},
        )
        if current.asked_by_id:
            notifications.notify(
                [current.asked_by],
                kind="information",
                key=f"answer:{current.pk}",
                title=_("Answer received: %(enterprise)s %(period)s")
                % {"enterprise": sub.enterprise.name, "period": sub.period},
                url=_url(sub),
            )
    return current


@refusals_audited("request_extension")
def request_extension(
    submission: Submission,
    until: datetime.date,
    reason: str,
    *,
    actor=None,
    request=None,
    membership,
    today: datetime.date | None = None,
) -> ExtensionRequest:
    today = today or timezone.localdate()
    reason = (reason or "").strip()
    with transaction.atomic():
        sub = _locked(submission)
        _require_enterprise(sub, membership)
        _require_editable(sub)
        current = deadlines.deadline_of(sub)
        if today > current:
            raise ReviewError(errors.DEADLINE_PASSED, deadline=current.isoformat())
        if until is None or until <= current:
            raise ReviewError(errors.EXTENSION_NOT_LATER, deadline=current.isoformat())
        if not reason:
            raise ReviewError(errors.EXPLANATION_REQUIRED)
        if sub.extension_requests.filter(decision=ExtensionRequest.Decision.PENDING).exists():
            raise ReviewError(errors.EXTENSION_PENDING)
        item = ExtensionRequest.objects.create(
            submission=sub,
            reason=reason[:4000],
            requested_until=until,
            previous_deadline=current,
            requested_by=actor,
        )
        _save(sub)
        record(
            EventType.DATA_CREATED,
            actor=actor,
            target=item,
            organisation=sub.enterprise,
            request=request,
            after={"submission": sub.pk, "until": until, "deadline": current},
        )
        from kiln.review import queries

        notifications.notify(
            queries.reviewers_for(sub, "preliminary"),
            kind="extension",
            key=f"extension:{item.pk}",
            title=_("Deadline extension requested: %(enterprise)s %(period)s")
            % {"enterprise": sub.enterprise.name, "period": sub.period},
            body=item.reason,
            url=_url(sub),
        )
    return item


@refusals_audited("decide_extension")
def decide_extension(
    item: ExtensionRequest, grant: bool, note: str = "", *, actor=None, request=None, membership
) -> ExtensionRequest:
    with transaction.atomic():
        sub = _locked(item.submission)
        if workflow.reviewer_level(membership, sub.enterprise) is None:
            raise ReviewError(errors.NOT_YOUR_TURN)
        current = ExtensionRequest.objects.select_for_update().get(pk=item.pk)
        if current.decision != ExtensionRequest.Decision.PENDING:
            raise ReviewError(errors.EXTENSION_DECIDED)
        current.decision = ExtensionRequest.Decision.GRANTED if grant else ExtensionRequest.Decision.DECLINED
        current.decision_note, current.decided_by, current.decided_at = (
            (note or "")[:4000],
            actor,
            timezone.now(),
        )
        current.save(update_fields=["decision", "decision_note", "decided_by", "decided_at"])
        before = sub.deadline_extended_to
        _save(sub, **({"deadline_extended_to": current.requested_until} if grant else {}))
        record(
            EventType.DATA_UPDATED,
            actor=actor,
            target=current,
            organisation=sub.enterprise,
            request=request,
            before={"deadline_extended_to": before},
            after={"decision": current.decision, "deadline_extended_to": sub.deadline_extended_to},
        )
        notifications.notify(
            notifications.members_with(sub.enterprise),
            kind="extension",
            key=f"extension-decided:{current.pk}",
            title=_("Extension %(decision)s: %(enterprise)s %(period)s")
            % {
                "decision": current.get_decision_display(),
                "enterprise": sub.enterprise.name,
                "period": sub.period,
            },
            body=current.decision_note,
            url=_url(sub),
        )
    return current


@refusals_audited("reassign")
def reassign(
    submission: Submission, stage: str, assignee, *, actor=None, request=None, membership
) -> Submission:
    """Give the preliminary or the final review of a submission to a named reviewer."""
    from kiln.review import queries

    with transaction.atomic():
        sub = _locked(submission)
        if sub.state == State.APPROVED:
            raise ReviewError(errors.LOCKED)
        level = workflow.reviewer_level(membership, sub.enterprise)
        if level is None or level not in workflow.FINAL_LEVELS:
            raise ReviewError(errors.NOT_YOUR_TURN)
        if assignee is None or assignee not in queries.reviewers_for(sub, stage, ignore_assignment=True):
            raise ReviewError(errors.BAD_ASSIGNEE)
        field = "preliminary_reviewer" if stage == "preliminary" else "final_reviewer"
        before = getattr(sub, f"{field}_id")
        _save(sub, **{field: assignee})
        record(
            EventType.DATA_UPDATED,
            actor=actor,
            target=sub,
            organisation=sub.enterprise,
            request=request,
            before={field: before},
            after={field: assignee.pk},
        )
        notifications.notify(
            [assignee],
            kind="review",
            key=f"assigned:{sub.pk}:{stage}:{sub.version}",
            title=_("Assigned to you: %(enterprise)s %(period)s")
            % {"enterprise": sub.enterprise.name, "period": sub.period},
            url=_url(sub),
        )
    return sub
