"""Screening pages: warning dashboard, finding queue per level (filters, bulk actions), finding page,
enterprise rectification page, overview by level/age/rule, rule administration, runs, anomaly ranking."""

from __future__ import annotations

import datetime
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiln.accounts.current import current_membership, membership_with
from kiln.accounts.models import User
from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.engine.screening import CHECKS
from kiln.intake import deposits
from kiln.intake.errors import IntakeError
from kiln.intake.models import EvidenceFile
from kiln.registry.queries import visible_enterprises, visible_regions
from kiln.screening import display, queries, services, workflow
from kiln.screening.errors import ScreeningError
from kiln.screening.forms import BulkForm, NewRuleForm, QueueFilter, RuleForm, RunForm, TransitionForm
from kiln.screening.models import LEVEL_ORDER, OPEN_STATUSES, AnomalyScore, Finding, Level, RuleVersion
from kiln.screening.warnings import warning_tables
from kiln.screening.workflow import Action

PAGE = 200


def _reviewer_view(request):
    membership = current_membership(request)
    if not queries.sees_screening(membership):
        raise Http404
    return membership


@login_required
def dashboard(request):
    membership = _reviewer_view(request)
    form = RunForm(regions=visible_regions(membership))
    tables = warning_tables(membership, first=request.GET.get("first", ""), last=request.GET.get("last", ""))
    runs = queries.visible_runs(membership).select_related("region")[:10]
    return render(
        request,
        "screening/dashboard.html",
        {
            "tables": tables,
            "runs": runs,
            "run_form": form,
            "can_run": membership.has_perm(Perm.SCREEN),
            "first": request.GET.get("first", ""),
            "last": request.GET.get("last", ""),
        },
    )


@login_required
@require_POST
def run(request):
    """Screen now (on demand): a month or a year, for one of the user's regions."""
    membership = membership_with(request, Perm.SCREEN)
    regions = visible_regions(membership)
    form = RunForm(request.POST, regions=regions)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("screening:dashboard")
    data = form.cleaned_data
    region = data["region"]
    if region is None and membership.role not in PLATFORM_WIDE_ROLES:
        region = membership.organisation.region
    first, last = services.periods_for(period=data["period"], year=data["year"])
    result = services.run_screening(
        actor=request.user, trigger="manual", first=first, last=last, region=region
    )
    messages.success(
        request,
        _("Screening run #%(id)s: %(total)s findings, %(new)s new.")
        % {"id": result.pk, "total": result.findings_total, "new": result.findings_new},
    )
    return redirect("screening:run-detail", pk=result.pk)


@login_required
def run_detail(request, pk: int):
    membership = _reviewer_view(request)
    item = get_object_or_404(queries.visible_runs(membership), pk=pk)
    counts = Counter(Finding.objects.filter(last_run=item).values_list("rule_id", flat=True))
    return render(
        request,
        "screening/run_detail.html",
        {"run": item, "counts": sorted(counts.items()), "rules": item.rule_versions.all()},
    )


def _filtered(request, membership):
    form = QueueFilter(request.GET or None)
    findings = queries.visible_findings(membership)
    if form.is_valid():
        data = form.cleaned_data
        status = data["status"]
        if status == "all":
            pass
        elif status:
            findings = findings.filter(status=status)
        else:
            findings = findings.filter(status__in=OPEN_STATUSES)
        for field, lookup in (
            ("level", "level"),
            ("severity", "severity"),
            ("rule", "rule_id__istartswith"),
            ("period", "period__startswith"),
            ("county", "enterprise__region__code"),
            ("industry", "enterprise__industry__code__startswith"),
        ):
            if data[field]:
                findings = findings.filter(**{lookup: data[field]})
        if data["mine"]:
            findings = findings.filter(assignee=request.user)
        if data["overdue"]:
            findings = findings.filter(deadline__lt=timezone.localdate(), status__in=OPEN_STATUSES)
    else:
        findings = findings.filter(status__in=OPEN_STATUSES)
    return form, findings


@login_required
def queue(request):
    """The finding queue of the user's level, with filters and bulk actions."""
    membership = _reviewer_view(request)
    params = request.GET.copy()
    own_level = workflow.level_of(membership)
    if "level" not in params and own_level:
        params["level"] = own_level
    request.GET = params
    form, findings = _filtered(request, membership)
    total = findings.count()
    rows = [(f, display.message(f)) for f in findings.order_by("deadline", "-severity", "-created")[:PAGE]]
    reviewers = (
        User.objects.filter(
            is_active=True, memberships__active=True, memberships__organisation=membership.organisation
        )
        .distinct()
        .order_by("username")
    )
    return render(
        request,
        "screening/queue.html",
        {
            "form": form,
            "rows": rows,
            "total": total,
            "page": PAGE,
            "reviewers": reviewers,
            "can_act": membership.has_perm(Perm.SCREEN),
            "bulk_actions": BulkForm.base_fields["action"].choices,
            "today": timezone.localdate(),
            "default_deadline": timezone.localdate() + datetime.timedelta(days=15),
        },
    )


@login_required
@require_POST
def bulk(request):
    membership = membership_with(request, Perm.SCREEN)
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose findings and an action."))
        return redirect("screening:queue")
    data = form.cleaned_data
    findings = queries.visible_findings(membership).filter(pk__in=form.id_list())
    assignee = User.objects.filter(pk=data["assignee"]).first() if data["assignee"] else None
    kwargs = {"comment": data["comment"]}
    if data["action"] == Action.ASSIGN:
        kwargs.update(assignee=assignee, deadline=data["deadline"])
    moved, refused = services.bulk_transition(
        findings, data["action"], actor=request.user, membership=membership, **kwargs
    )
    messages.success(request, _("%(n)s findings updated.") % {"n": moved})
    for finding, error in refused[:10]:
        messages.error(request, f"#{finding.pk}: {error.message}")
    return redirect(request.POST.get("next") or reverse("screening:queue"))


@login_required
def finding(request, pk: int):
    membership = current_membership(request)
    item = get_object_or_404(queries.visible_findings(membership), pk=pk)
    actions = workflow.available_transitions(item, membership)
    return render(
        request,
        "screening/finding.html",
        {
            "finding": item,
            "message": display.message(item),
            "numbers": {k: display.number(getattr(item, k)) for k in ("value", "low", "high", "reference")},
            "events": item.events.select_related("actor", "evidence", "assignee"),
            "actions": [(a, Action(a).label) for a in actions],
            "form": TransitionForm(),
            "reviewers": services.assignable_reviewers(item) if Action.ASSIGN in actions else [],
            "default_deadline": timezone.localdate()
            + datetime.timedelta(days=item.rule_version.deadline_days),
            "evidence_kinds": EvidenceFile.Kind.choices,
            "incidents": item.incidents.all(),
            "item_label": display.item_label(item.item, not request.LANGUAGE_CODE.startswith("en")),
        },
    )


@login_required
@require_POST
def act(request, pk: int, action: str):
    membership = current_membership(request)
    item = get_object_or_404(queries.visible_findings(membership), pk=pk)
    if action not in Action.values:
        raise Http404
    form = TransitionForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Check the form."))
        return redirect("screening:finding", pk=pk)
    data = form.cleaned_data
    evidence = None
    try:
        if (
            action == Action.ANSWER
            and data["evidence"]
            and workflow.refusal(item, action, membership) is None
        ):
            evidence = deposits.deposit(
                enterprise=item.enterprise,
                period=item.period,
                kind=request.POST.get("evidence_kind") or EvidenceFile.Kind.OTHER,
                upload=data["evidence"],
                actor=request.user,
            )
        assignee = User.objects.filter(pk=data["assignee"]).first() if data["assignee"] else None
        services.transition(
            item,
            action,
            actor=request.user,
            membership=membership,
            comment=data["comment"],
            assignee=assignee,
            deadline=data["deadline"],
            answer_kind=data["answer_kind"] or "",
            evidence=evidence,
        )
        messages.success(request, _("Done: %(action)s.") % {"action": Action(action).label})
    except ScreeningError as exc:
        messages.error(request, exc.message)
    except IntakeError as exc:
        messages.error(request, f"{exc.code}: {exc}")
    return redirect(request.POST.get("next") or reverse("screening:finding", args=[pk]))


@login_required
def enterprise(request, credit_code: str):
    """An enterprise's findings: what to correct or explain (整改), with the answer forms."""
    membership = current_membership(request)
    ent = get_object_or_404(visible_enterprises(membership), credit_code=credit_code)
    findings = queries.visible_findings(membership).filter(enterprise=ent)
    if (
        not findings.exists()
        and not queries.sees_screening(membership)
        and membership.organisation_id != ent.pk
    ):
        raise Http404
    open_rows = [
        (f, display.message(f), workflow.available_transitions(f, membership))
        for f in findings.filter(status__in=OPEN_STATUSES).order_by("deadline", "period")[:500]
    ]
    done = findings.exclude(status__in=OPEN_STATUSES).order_by("-updated")[:100]
    return render(
        request,
        "screening/enterprise.html",
        {
            "enterprise": ent,
            "open_rows": open_rows,
            "done": [(f, display.message(f)) for f in done],
            "form": TransitionForm(),
            "evidence_kinds": EvidenceFile.Kind.choices,
            "electricity": _recent_electricity(ent),
        },
    )


ELECTRICITY_MONTHS = 6  # months of metered against reported electricity on the rectification page


def _recent_electricity(ent) -> list[dict]:
    """The latest months (of the last two years) with metered or reported electricity, newest first."""
    from kiln.engine.screening import context_start
    from kiln.grid.queries import electricity_comparison

    today = timezone.localdate()
    last = f"{today.year:04d}-{today.month:02d}"
    rows = electricity_comparison(ent, context_start(last, 24), last)
    return rows[::-1][:ELECTRICITY_MONTHS]


@login_required
def my_findings(request):
    """Enterprise staff land on their own rectification page."""
    membership = current_membership(request)
    if membership is None or membership.organisation.kind != "enterprise":
        raise Http404
    return redirect("screening:enterprise", credit_code=membership.organisation.credit_code)


@login_required
def overview(request):
    """Open findings by level and age, and by rule."""
    membership = _reviewer_view(request)
    today = timezone.localdate()
    rows = (
        queries.visible_findings(membership)
        .filter(status__in=OPEN_STATUSES)
        .values_list("level", "created", "rule_id", "severity", "deadline")
    )
    buckets = [label for _limit, label in display.AGE_BUCKETS]
    by_level = {lv: Counter() for lv in LEVEL_ORDER}
    by_rule: Counter = Counter()
    overdue: Counter = Counter()
    for level, created, rule_id, _severity, deadline in rows:
        by_level[level][display.age_bucket((today - timezone.localtime(created).date()).days)] += 1
        by_rule[rule_id] += 1
        if deadline and deadline < today:
            overdue[level] += 1
    table = [
        (Level(lv).label, [by_level[lv][b] for b in buckets], sum(by_level[lv].values()), overdue[lv], lv)
        for lv in LEVEL_ORDER
    ]
    return render(
        request,
        "screening/overview.html",
        {"buckets": buckets, "table": table, "rules": by_rule.most_common()},
    )


@login_required
def rules(request):
    membership = _reviewer_view(request)
    current = queries.current_rules(enabled_only=False)
    return render(
        request,
        "screening/rules.html",
        {"rules": current, "checks": CHECKS, "can_manage": membership.has_perm(Perm.MANAGE_RULES)},
    )


@login_required
def rule_detail(request, rule_id: str):
    membership = _reviewer_view(request)
    versions = RuleVersion.objects.filter(rule_id=rule_id).order_by("-version")
    if not versions:
        raise Http404
    latest = versions[0]
    return render(
        request,
        "screening/rule_detail.html",
        {
            "versions": versions,
            "latest": latest,
            "check": CHECKS.get(latest.engine_check),
            "can_manage": membership.has_perm(Perm.MANAGE_RULES),
        },
    )


@login_required
def rule_edit(request, rule_id: str):
    membership_with(request, Perm.MANAGE_RULES)
    latest = RuleVersion.objects.filter(rule_id=rule_id).order_by("-version").first()
    if latest is None:
        raise Http404
    form = RuleForm(
        request.POST or None,
        instance=RuleVersion(**{f: getattr(latest, f) for f in services.RULE_FIELDS})
        if request.method == "POST"
        else latest,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_rule(
                actor=request.user,
                rule_id=rule_id,
                fields={f: form.cleaned_data[f] for f in services.RULE_FIELDS},
            )
        except ScreeningError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved as %(label)s.") % {"label": saved.label})
            return redirect("screening:rule", rule_id=rule_id)
    return render(request, "screening/rule_edit.html", {"form": form, "latest": latest, "checks": CHECKS})


@login_required
def rule_new(request):
    membership_with(request, Perm.MANAGE_RULES)
    form = NewRuleForm(
        request.POST or None,
        initial={"severity": "warning", "route_to": Level.PROVINCE, "deadline_days": 15, "enabled": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_rule(
                actor=request.user,
                rule_id=form.cleaned_data["rule_id"],
                new=True,
                fields={f: form.cleaned_data[f] for f in services.RULE_FIELDS},
            )
        except ScreeningError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Rule %(label)s created.") % {"label": saved.label})
            return redirect("screening:rule", rule_id=saved.rule_id)
    return render(request, "screening/rule_edit.html", {"form": form, "latest": None, "checks": CHECKS})


@login_required
def anomalies(request):
    """Enterprise-months ranked by the anomaly detector's score (latest run): where to sample on site."""
    membership = _reviewer_view(request)
    scores = queries.visible_scores(membership)
    latest = scores.order_by("-run_id").values_list("run_id", flat=True).first()
    rows = (
        list(scores.filter(run_id=latest).select_related("enterprise").order_by("rank")[:200])
        if latest
        else []
    )
    return render(
        request, "screening/anomalies.html", {"rows": rows, "run_id": latest, "score_type": AnomalyScore}
    )
