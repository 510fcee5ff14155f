"""Pages of supervision: enterprise submissions, the reviewer queue, a submission, verification, sampling,
deadlines. Thin: every change is a service call; a refusal is shown as its message.
Objects outside the acting membership's scope are 404, never 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiln.accounting.queries import official_run
from kiln.accounts.current import current_membership
from kiln.accounts.models import User
from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.intake.models import EvidenceFile
from kiln.ledger import evidence_files
from kiln.registry.models import Organisation
from kiln.registry.queries import visible_enterprises
from kiln.reports.errors import ReportError
from kiln.review import deadlines, forms, queries, sampling, services, verification, workflow
from kiln.review.errors import ReviewError
from kiln.review.models import (
    Action,
    ExtensionRequest,
    InformationRequest,
    ReviewComment,
    SampledEnterprise,
    State,
    Submission,
    VerificationAssignment,
)

PAGE = 200


def _membership(request):
    membership = current_membership(request)
    if membership is None:
        raise Http404
    return membership


def _submission(request, pk: int) -> tuple:
    membership = _membership(request)
    return membership, get_object_or_404(queries.visible_submissions(membership), pk=pk)


# What _attempt returns when the service refused: a service may itself return None.
_REFUSED: Any = object()


def _attempt(
    request,
    membership,
    call: Callable[..., Any],
    *,
    form=None,
    invalid: str | Callable[[], ReviewError] = "",
    done: str | Callable[[Any], str] | None = None,
) -> Any:
    """One POST's change: check ``form``, run ``call(data, actor=, membership=, request=)`` with its
    cleaned data ({} without a form) and show the outcome as a message; the caller redirects.

    An invalid form is refused as the service would refuse, with the code ``invalid`` (or a function making
    the error when it takes parameters, so that any lookup they need happens only then). ``done`` is the
    success message, or makes it from the service's result. Returns that result, or _REFUSED once the
    refusal is shown."""
    try:
        if form is not None and not form.is_valid():
            raise ReviewError(invalid) if isinstance(invalid, str) else invalid()
        result = call(
            form.cleaned_data if form is not None else {},
            actor=request.user,
            membership=membership,
            request=request,
        )
    except ReviewError as exc:
        messages.error(request, exc.message)
        return _REFUSED
    if done is not None:
        messages.success(request, done(result) if callable(done) else done)
    return result


def _incomplete(request, to: str, **kwargs):
    """A form the view needs before it can even find its object (no service code applies)."""
    messages.error(request, _("The form was incomplete; nothing changed."))
    return redirect(to, **kwargs)


@login_required
def index(request):
    """To the membership's own part of supervision."""
    membership = _membership(request)
    if queries.can_view_supervision(membership):
        return redirect("review:queue")
    if queries.is_verifier(membership):
        return redirect("review:verification")
    if membership.organisation.kind == Organisation.Kind.ENTERPRISE and membership.has_perm(Perm.SUBMIT_DATA):
        return redirect("review:submissions")
    raise Http404


# --- enterprise ------------------------------------------------------------------------------------------


@login_required
def submissions(request):
    membership = _membership(request)
    if membership.organisation.kind != Organisation.Kind.ENTERPRISE or not membership.has_perm(
        Perm.SUBMIT_DATA
    ):
        raise Http404
    rows = queries.visible_submissions(membership).order_by("-year", "-period")
    return render(
        request,
        "review/submissions.html",
        {
            "submissions": [(s, deadlines.deadline_of(s)) for s in rows],
            "form": forms.OpenForm(initial={"period": str(timezone.localdate().year - 1)}),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def open_submission(request):
    membership = _membership(request)
    if membership.organisation.kind != Organisation.Kind.ENTERPRISE:
        raise Http404
    enterprise = get_object_or_404(visible_enterprises(membership), pk=membership.organisation_id)
    sub = _attempt(
        request,
        membership,
        lambda data, **by: services.open_submission(enterprise, data["period"], **by),
        form=forms.OpenForm(request.POST),
        invalid="REV-BAD-PERIOD",
    )
    if sub is _REFUSED:
        return redirect("review:submissions")
    return redirect("review:detail", pk=sub.pk)


# --- a submission --------------------------------------------------------------------------------------------


def _detail_context(request, membership, sub: Submission) -> dict:
    user = request.user
    actions = workflow.available_transitions(sub, user, membership)
    is_enterprise = workflow.is_enterprise_member(membership, sub.enterprise)
    check = services.latest_check(sub)
    acknowledged = {a.key: a for a in sub.acknowledgements.all()}
    versions = list(sub.versions.order_by("-number"))
    current = versions[0] if versions else None
    previous = versions[1] if len(versions) > 1 else None
    stage = workflow.stage_of(sub)
    reviewing = stage is not None and (
        workflow.can_preliminary(membership, sub)
        if stage == "preliminary"
        else workflow.can_final(membership, sub)
    )
    assignment = (
        VerificationAssignment.objects.filter(enterprise=sub.enterprise, year=sub.year)
        .exclude(status=VerificationAssignment.Status.WITHDRAWN)
        .select_related("agency")
        .first()
    )
    level = workflow.reviewer_level(membership, sub.enterprise)
    comments = list(sub.comments.select_related("author", "version", "responded_by"))
    by_item: dict[str, list] = {}
    for c in comments:
        by_item.setdefault(c.item_key, []).append(c)
    items = []
    if current is not None:
        for key, item in current.figures.get("items", {}).items():
            items.append(
                {
                    "key": key,
                    **item,
                    "label": services.label_for(key, item["label"]),
                    "comments": by_item.get(key, []),
                }
            )
    return {
        "sub": sub,
        "enterprise": sub.enterprise,
        "deadline": deadlines.deadline_of(sub),
        "late": sub.state in workflow.EDITABLE and deadlines.deadline_of(sub) < timezone.localdate(),
        "actions": [(a, dict(Action.choices)[a]) for a in actions],
        "transition_form": forms.TransitionForm(
            items=services.item_choices(current), initial={"version": sub.version}
        ),
        "is_enterprise": is_enterprise,
        "editable": sub.state in workflow.EDITABLE,
        "check": check,
        "findings": [(f, acknowledged.get(f["key"])) for f in (check.results if check else [])],
        "blockers": [str(ReviewError(code).message) for code in services.submit_blockers(sub)]
        if is_enterprise and sub.state in workflow.EDITABLE
        else [],
        "versions": versions,
        "current": current,
        "items": items,
        "general_comments": by_item.get("general", []),
        "diff": services.diff(previous, current) if current else [],
        "previous": previous,
        "information": list(sub.information_requests.select_related("asked_by", "answered_by")),
        "extensions": list(sub.extension_requests.select_related("requested_by", "decided_by")),
        "history": list(sub.transitions.select_related("actor")),
        "assignment": assignment,
        "findings_verification": list(assignment.findings.all()) if assignment else [],
        "reviewing": reviewing,
        "can_reassign": level is not None and level in workflow.FINAL_LEVELS and sub.state != State.APPROVED,
        "reviewers": {
            "preliminary": queries.reviewers_for(sub, "preliminary", ignore_assignment=True),
            "final": queries.reviewers_for(sub, "final", ignore_assignment=True),
        }
        if level is not None
        else {},
        "can_decide_extension": level is not None,
        "can_recalculate": services.stale_run(sub, membership),
        "information_form": forms.InformationForm(),
        "extension_form": forms.ExtensionForm(),
    }


@login_required
def detail(request, pk: int):
    membership, sub = _submission(request, pk)
    return render(request, "review/detail.html", _detail_context(request, membership, sub))


@login_required
@require_POST
def transition(request, pk: int):
    membership, sub = _submission(request, pk)
    form = forms.TransitionForm(request.POST, items=services.item_choices(sub.current_version))
    if not form.is_valid() or form.cleaned_data["action"] not in Action.values:
        return _incomplete(request, "review:detail", pk=pk)
    data, action = form.cleaned_data, form.cleaned_data["action"]
    moved = _attempt(
        request,
        membership,
        lambda _data, **by: services.transition(
            sub,
            action,
            **by,
            expected_version=data["version"],
            comment=data["comment"],
            comments=form.item_comments(),
            note=data["comment"],
        ),
        done=_("Done: %(action)s.") % {"action": dict(Action.choices)[action]},
    )
    if moved is _REFUSED:
        return redirect("review:detail", pk=pk)
    # The move may take the report out of this membership's sight.
    if queries.visible_submissions(membership).filter(pk=pk).exists():
        return redirect("review:detail", pk=pk)
    return redirect("review:index")


@login_required
@require_POST
def self_check(request, pk: int):
    membership, sub = _submission(request, pk)
    _attempt(
        request,
        membership,
        lambda _data, **by: services.run_self_check(sub, **by),
        done=lambda check: (
            _("Self-check done: %(errors)d blocking errors, %(warnings)d warnings.")
            % {"errors": check.errors, "warnings": check.warnings}
        ),
    )
    return redirect("review:detail", pk=pk)


@login_required
@require_POST
def acknowledge(request, pk: int):
    membership, sub = _submission(request, pk)
    _attempt(
        request,
        membership,
        lambda data, **by: services.acknowledge(sub, data["key"], data["explanation"], **by),
        form=forms.AcknowledgeForm(request.POST),
        invalid="REV-EXPLANATION-REQUIRED",
        done=_("Explanation saved."),
    )
    return redirect("review:detail", pk=pk)


@login_required
@require_POST
def request_information(request, pk: int):
    membership, sub = _submission(request, pk)
    _attempt(
        request,
        membership,
        lambda data, **by: services.request_information(sub, data["question"], data["due"], **by),
        form=forms.InformationForm(request.POST),
        invalid="REV-QUESTION-REQUIRED",
        done=_("The request for information was sent."),
    )
    return redirect("review:detail", pk=pk)


@login_required
@require_POST
def answer_information(request, pk: int):
    membership = _membership(request)
    item = get_object_or_404(
        InformationRequest.objects.filter(submission__in=queries.visible_submissions(membership)), pk=pk
    )
    _attempt(
        request,
        membership,
        lambda data, **by: services.answer_information(item, data["answer"], **by),
        form=forms.AnswerForm(request.POST),
        invalid="REV-EXPLANATION-REQUIRED",
        done=_("Answer sent."),
    )
    return redirect("review:detail", pk=item.submission_id)


@login_required
@require_POST
def request_extension(request, pk: int):
    membership, sub = _submission(request, pk)
    _attempt(
        request,
        membership,
        lambda data, **by: services.request_extension(sub, data["until"], data["reason"], **by),
        form=forms.ExtensionForm(request.POST),
        invalid=lambda: ReviewError(
            "REV-EXTENSION-NOT-LATER", deadline=deadlines.deadline_of(sub).isoformat()
        ),
        done=_("The extension request was sent."),
    )
    return redirect("review:detail", pk=pk)


@login_required
@require_POST
def decide_extension(request, pk: int):
    membership = _membership(request)
    item = get_object_or_404(
        ExtensionRequest.objects.filter(submission__in=queries.visible_submissions(membership)), pk=pk
    )
    _attempt(
        request,
        membership,
        lambda data, **by: services.decide_extension(
            item, data["decision"] == ExtensionRequest.Decision.GRANTED, data["note"], **by
        ),
        form=forms.DecideExtensionForm(request.POST),
        invalid=lambda: ReviewError("REV-NOT-ALLOWED-NOW", state=""),
    )
    return redirect("review:detail", pk=item.submission_id)


@login_required
@require_POST
def reassign(request, pk: int):
    membership, sub = _submission(request, pk)
    form = forms.ReassignForm(request.POST)
    assignee = User.objects.filter(pk=form.data.get("assignee") or 0).first() if form.is_valid() else None
    # No form refusal here: an invalid form reaches the service as "no assignee", which it refuses.
    stage = form.cleaned_data.get("stage", "preliminary") if form.is_valid() else "preliminary"
    _attempt(
        request,
        membership,
        lambda _data, **by: services.reassign(sub, stage, assignee, **by),
        done=_("Reassigned to %(user)s.") % {"user": assignee},
    )
    return redirect("review:detail", pk=pk)


@login_required
@require_POST
def recalculate(request, pk: int):
    """Redo the out-of-date official calculation, then the self-check (a city or provincial reviewer)."""
    membership, sub = _submission(request, pk)
    version = request.POST.get("version", "")

    def done(result) -> str:
        check, run = result
        ran = (
            _("Recalculated (run #%(run)s).") % {"run": run.pk}
            if run is not None
            else _("The official calculation was already up to date.")
        )
        checked = _("Self-check done: %(errors)d blocking errors, %(warnings)d warnings.") % {
            "errors": check.errors,
            "warnings": check.warnings,
        }
        return f"{ran} {checked}"

    _attempt(
        request,
        membership,
        lambda _data, **by: services.recalculate(
            sub, **by, expected_version=int(version) if version.isdigit() else None
        ),
        done=done,
    )
    back = request.POST.get("next", "")
    if back.startswith("/review/"):
        return redirect(back)
    return redirect("review:detail", pk=pk)


@login_required
@require_POST
def respond(request, pk: int):
    membership = _membership(request)
    comment = get_object_or_404(
        ReviewComment.objects.filter(submission__in=queries.visible_submissions(membership)), pk=pk
    )
    _attempt(
        request,
        membership,
        lambda data, **by: services.respond_to_comment(comment, data["response"], **by),
        form=forms.RespondForm(request.POST),
        invalid="REV-EXPLANATION-REQUIRED",
    )
    return redirect("review:detail", pk=comment.submission_id)


@login_required
def submission_report(request, pk: int, fmt: str):
    """The report exactly as submitted: the submitted version's calculation run."""
    from kiln.reports import services as report_services

    membership, sub = _submission(request, pk)
    version = sub.current_version
    if version is None:
        raise Http404
    try:
        report = report_services.export(
            sub.enterprise, sub.period, fmt, actor=request.user, request=request, run=version.run
        )
    except ReportError as exc:
        messages.error(request, exc.message)
        return redirect("review:detail", pk=pk)
    response = HttpResponse(report.data, content_type=report.content_type)
    response["Content-Disposition"] = content_disposition_header(True, report.file_name)
    return response


# --- reviewer queue --------------------------------------------------------------------------------------


@login_required
def queue(request):
    membership = _membership(request)
    if not queries.can_view_supervision(membership):
        raise Http404
    form = forms.QueueFilterForm(request.GET or None, regions=queries.city_regions(membership))
    filters = form.cleaned_data if form.is_valid() else {}
    qs = queries.queue(membership, **{k: v for k, v in filters.items() if v not in (None, "")})
    counts = dict(queries.visible_submissions(membership).values_list("state").annotate(n=Count("id")))
    rows = list(qs[:PAGE])
    labels = dict(Action.choices)
    return render(
        request,
        "review/queue.html",
        {
            "form": form,
            "rows": [
                (
                    s,
                    deadlines.deadline_of(s),
                    [labels[a] for a in workflow.available_transitions(s, request.user, membership)],
                )
                for s in rows
            ],
            "total": qs.count(),
            "shown": len(rows),
            # a read-only viewer of supervision gets neither the bulk form nor the selection boxes
            "can_act": queries.is_reviewer(membership),
            "counts": [(state, label, counts.get(state, 0)) for state, label in State.choices],
            "bulk_actions": [(Action.START_PRELIMINARY, Action.START_PRELIMINARY.label)],
            "stale": [
                (s, workflow.can_recalculate(membership, s, official_run(s.enterprise.region, s.year)))
                for s in queries.stale_run_submissions(membership)
            ],
        },
    )


@login_required
@require_POST
def bulk(request):
    membership = _membership(request)
    if not queries.is_reviewer(membership):
        raise Http404
    action = request.POST.get("action", "")
    if action not in (Action.START_PRELIMINARY,):
        messages.error(request, _("Choose an action for the selected reports."))
        return redirect("review:queue")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    chosen = queries.visible_submissions(membership).filter(pk__in=ids)
    done, failed = services.bulk_transition(
        list(chosen), action, actor=request.user, membership=membership, request=request
    )
    if done:
        messages.success(
            request, _("%(n)d reports: %(action)s.") % {"n": done, "action": dict(Action.choices)[action]}
        )
    for sub, exc in failed[:20]:
        messages.error(request, f"{sub.enterprise.name} {sub.period}: {exc.message}")
    return redirect(
        request.POST.get("next")
        if str(request.POST.get("next", "")).startswith("/review/")
        else "review:queue"
    )


# --- verification -------------------------------------------------------------------------------------------


@login_required
def verification_index(request):
    membership = _membership(request)
    if not (queries.is_verifier(membership) or queries.is_reviewer(membership)):
        raise Http404
    context = {
        "assignments": list(queries.assignments_for(membership)[:PAGE]),
        "is_reviewer": queries.is_reviewer(membership),
    }
    if context["is_reviewer"]:
        context["assign_form"] = forms.AssignVerifierForm(initial={"year": timezone.localdate().year - 1})
        context["engagement_form"] = forms.EngagementForm()
        from kiln.review.models import ConsultancyEngagement

        context["engagements"] = ConsultancyEngagement.objects.filter(
            enterprise__in=visible_enterprises(membership)
        ).select_related("agency", "enterprise")[:PAGE]
    return render(request, "review/verification.html", context)


@login_required
@require_POST
def assign_verifier(request):
    membership = _membership(request)
    if not queries.is_reviewer(membership):
        raise Http404
    form = forms.AssignVerifierForm(request.POST)
    if not form.is_valid():
        return _incomplete(request, "review:verification")
    data = form.cleaned_data
    enterprise = get_object_or_404(visible_enterprises(membership), credit_code=data["credit_code"])
    _attempt(
        request,
        membership,
        lambda _data, **by: verification.assign(
            enterprise, data["year"], data["agency"], **by, access_until=data["access_until"]
        ),
        done=_("The verification body is assigned."),
    )
    return redirect("review:verification")


@login_required
@require_POST
def add_engagement(request):
    membership = _membership(request)
    if not queries.is_reviewer(membership):
        raise Http404
    form = forms.EngagementForm(request.POST)
    if not form.is_valid():
        return _incomplete(request, "review:verification")
    data = form.cleaned_data
    enterprise = get_object_or_404(visible_enterprises(membership), credit_code=data["credit_code"])
    _attempt(
        request,
        membership,
        lambda _data, **by: verification.engage(
            data["agency"], enterprise, data["starts"], data["ends"], data["scope"], **by
        ),
        done=_("The engagement is recorded."),
    )
    return redirect("review:verification")


def _assignment(request, pk: int):
    membership = _membership(request)
    return membership, get_object_or_404(queries.assignments_for(membership), pk=pk)


@login_required
def assignment(request, pk: int):
    membership, item = _assignment(request, pk)
    sub = Submission.objects.filter(
        enterprise=item.enterprise, period=str(item.year), report_type="annual"
    ).first()
    evidence = EvidenceFile.objects.filter(
        enterprise=item.enterprise, period__startswith=f"{item.year}-"
    ).order_by("period", "pk")
    own = queries.is_verifier(membership) and item.status == VerificationAssignment.Status.ASSIGNED
    return render(
        request,
        "review/assignment.html",
        {
            "item": item,
            "sub": sub,
            "items": services.item_choices(sub.current_version) if sub and sub.current_version else [],
            "evidence": evidence,
            "findings": list(item.findings.select_related("created_by")),
            "own": own,
            "is_reviewer": queries.is_reviewer(membership),
            "finding_form": forms.FindingForm(),
            "conclusion_form": forms.ConclusionForm(),
            "withdraw_form": forms.WithdrawAssignmentForm(),
        },
    )


@login_required
@require_POST
def add_finding(request, pk: int):
    membership, item = _assignment(request, pk)
    _attempt(
        request,
        membership,
        lambda data, **by: verification.add_finding(
            item, data["text"], data["severity"], data["item_key"], **by
        ),
        form=forms.FindingForm(request.POST),
        invalid="REV-EXPLANATION-REQUIRED",
    )
    return redirect("review:assignment", pk=pk)


@login_required
@require_POST
def conclude(request, pk: int):
    membership, item = _assignment(request, pk)
    _attempt(
        request,
        membership,
        lambda data, **by: verification.conclude(
            item,
            data["conclusion"],
            data["text"],
            data["report"].name,
            data["report"].read(verification.MAX_REPORT_BYTES + 1),
            verified_total_t=data["verified_total_t"],
            **by,
        ),
        form=forms.ConclusionForm(request.POST, request.FILES),
        invalid="REV-REPORT-FILE",
        done=_("The conclusion and the signed report are recorded."),
    )
    return redirect("review:assignment", pk=pk)


@login_required
@require_POST
def withdraw_assignment(request, pk: int):
    membership, item = _assignment(request, pk)
    # The form is not validated: a withdrawal goes ahead even without a reason.
    reason = forms.WithdrawAssignmentForm(request.POST).data.get("reason", "")
    _attempt(request, membership, lambda _data, **by: verification.withdraw(item, reason, **by))
    return redirect("review:verification")


@login_required
def proofs(request, pk: int):
    membership, item = _assignment(request, pk)
    data = verification.proof_bundles(item.enterprise, item.year, actor=request.user, request=request)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{item.enterprise.credit_code}-{item.year}-ledger-proofs.zip"
    )
    return response


@login_required
def verification_report(request, pk: int):
    membership, item = _assignment(request, pk)
    path = evidence_files.resolve(item.report_path) if item.report_path else None
    if path is None or not path.exists():
        raise Http404
    response = HttpResponse(path.read_bytes(), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, item.report_name or "verification-report.pdf"
    )
    return response


# --- sampling -------------------------------------------------------------------------------------------------


def _sampler(request):
    """Who draws samples and records their results: reviewers."""
    membership = _membership(request)
    if not queries.is_reviewer(membership):
        raise Http404
    return membership


def _sampling_viewer(request):
    """Who sees the draws: reviewers, and read-only viewers of supervision."""
    membership = _membership(request)
    if not queries.can_view_supervision(membership):
        raise Http404
    return membership


@login_required
def sampling_index(request):
    membership = _sampling_viewer(request)
    regions = queries.city_regions(membership)
    return render(
        request,
        "review/sampling.html",
        {
            "draws": sampling.visible_draws(membership).annotate(n=Count("sampled"))[:PAGE],
            "form": forms.DrawForm(
                regions=regions, initial={"year": timezone.localdate().year - 1, "size": 5}
            ),
            "can_act": queries.is_reviewer(membership),
        },
    )


@login_required
@require_POST
def sampling_draw(request):
    membership = _sampler(request)
    form = forms.DrawForm(request.POST, regions=queries.city_regions(membership))
    if not form.is_valid():
        return _incomplete(request, "review:sampling")
    data = form.cleaned_data
    region = get_object_or_404(queries.city_regions(membership), code=data["region"])
    made = _attempt(
        request,
        membership,
        lambda _data, **by: sampling.draw(
            region, data["year"], data["size"], data["stratify_by"], seed=data["seed"], **by
        ),
    )
    if made is _REFUSED:
        return redirect("review:sampling")
    return redirect("review:draw", pk=made.pk)


@login_required
def draw_detail(request, pk: int):
    membership = _sampling_viewer(request)
    item = get_object_or_404(sampling.visible_draws(membership), pk=pk)
    return render(
        request,
        "review/draw.html",
        {
            "draw": item,
            "sampled": item.sampled.select_related(
                "enterprise__region", "enterprise__industry", "recorded_by"
            ),
            "verified": sampling.verify(item),
            "superseded_by": getattr(item, "superseded_by", None),
            "redraw_form": forms.RedrawForm(),
            "result_form": forms.ResultForm(),
            "population": len(item.frame),
            "can_act": queries.is_reviewer(membership),
        },
    )


@login_required
@require_POST
def redraw(request, pk: int):
    membership = _sampler(request)
    old = get_object_or_404(sampling.visible_draws(membership), pk=pk)
    form = forms.RedrawForm(request.POST)
    # No form refusal: the seed is optional and the service refuses a missing reason itself.
    made = _attempt(
        request,
        membership,
        lambda _data, **by: sampling.draw(
            old.region,
            old.year,
            old.size,
            old.stratify_by,
            weights=old.weights,
            seed=form.cleaned_data.get("seed") if form.is_valid() else None,
            supersedes=old,
            reason=form.data.get("reason", ""),
            **by,
        ),
    )
    if made is _REFUSED:
        return redirect("review:draw", pk=pk)
    return redirect("review:draw", pk=made.pk)


@login_required
@require_POST
def sampling_result(request, pk: int):
    membership = _sampler(request)
    item = get_object_or_404(
        SampledEnterprise.objects.filter(draw__in=sampling.visible_draws(membership)), pk=pk
    )
    _attempt(
        request,
        membership,
        lambda data, **by: sampling.record_result(
            item, data["result"], data["note"], data["inspected_on"], **by
        ),
        form=forms.ResultForm(request.POST),
        invalid="REV-BAD-RESULT",
    )
    return redirect("review:draw", pk=item.draw_id)


# --- deadlines and overdue ------------------------------------------------------------------------


@login_required
def overdue(request):
    membership = _membership(request)
    if not queries.can_view_supervision(membership):
        raise Http404
    regions = queries.city_regions(membership)
    code = request.GET.get("region", "")
    enterprises = visible_enterprises(membership)
    if code:
        region = get_object_or_404(regions, code=code)
        enterprises = enterprises.filter(region__path__startswith=region.path)
    rows = deadlines.overdue(enterprises)
    today = timezone.localdate()
    by_region: dict[str, int] = {}
    for row in rows:
        by_region[row.enterprise.region.label] = by_region.get(row.enterprise.region.label, 0) + 1
    return render(
        request,
        "review/overdue.html",
        {
            "rows": [(o, (today - o.deadline).days) for o in rows[:1000]],
            "total": len(rows),
            "regions": regions,
            "region": code,
            "by_region": sorted(by_region.items()),
            "kinds": dict(deadlines.DeadlineKind.choices),
        },
    )


@login_required
def deadline_rules(request):
    membership = _membership(request)
    if not (queries.can_view_supervision(membership) or membership.role in PLATFORM_WIDE_ROLES):
        raise Http404
    from kiln.review.models import Holiday

    year = timezone.localdate().year
    rules = deadlines.policies()
    examples = []
    for rule in rules:
        period = f"{year - 1}" if rule.kind == deadlines.DeadlineKind.ANNUAL_REPORT else f"{year - 1}-12"
        examples.append((rule, period, deadlines.due_date(rule.kind, period, rule)))
    return render(
        request,
        "review/deadlines.html",
        {
            "examples": examples,
            "holidays": Holiday.objects.filter(date__year__gte=year - 1),
            "can_edit": request.user.is_staff,
        },
    )
