"""Incident pages: the board, opening an incident, its page (timeline, checklist, freezes, findings,
recomputation), the report (处置报告: printable HTML and a Markdown download), playbooks."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiln.accounts.current import current_membership, membership_with
from kiln.accounts.models import User
from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.incidents import queries, services
from kiln.incidents.forms import (
    FindingsForm,
    FreezeForm,
    IncidentForm,
    LevelForm,
    NoteForm,
    PlaybookForm,
    RecomputeForm,
    ReviewForm,
    StatusForm,
)
from kiln.incidents.models import Incident, IncidentFreeze, IncidentStep, Kind, Playbook
from kiln.intake.errors import IntakeError
from kiln.registry.queries import visible_enterprises, visible_regions
from kiln.screening.queries import visible_findings


def _membership(request):
    membership = current_membership(request)
    if not queries.sees_incidents(membership):
        raise Http404
    return membership


def _incident(request, pk: int) -> Incident:
    return get_object_or_404(queries.visible_incidents(_membership(request)), pk=pk)


@login_required
def board(request):
    membership = _membership(request)
    incidents = queries.visible_incidents(membership)
    kind = request.GET.get("kind", "")
    if kind in Kind.values:
        incidents = incidents.filter(kind=kind)
    columns = [
        (status, label, [i for i in incidents[:500] if i.status == status])
        for status, label in Incident.Status.choices
    ]
    return render(
        request,
        "incidents/board.html",
        {
            "columns": columns,
            "kinds": Kind.choices,
            "kind": kind,
            "can_open": membership.has_perm(Perm.SCREEN),
        },
    )


def _owners(membership):
    if membership.role in PLATFORM_WIDE_ROLES:
        return User.objects.filter(is_active=True, memberships__active=True).distinct()
    return User.objects.filter(
        is_active=True, memberships__active=True, memberships__organisation=membership.organisation
    ).distinct()


@login_required
def new(request):
    membership = membership_with(request, Perm.SCREEN)
    if not queries.sees_incidents(membership):
        raise Http404
    form = IncidentForm(
        request.POST or None,
        regions=visible_regions(membership),
        owners=_owners(membership),
        initial={"owner": request.user.pk, "region": membership.organisation.region_id},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        incident = services.open_incident(
            actor=request.user,
            title=data["title"],
            kind=data["kind"],
            level=data["level"],
            region=data["region"],
            owner=data["owner"],
            summary=data["summary"],
            factor_set=data.get("factor_set"),
        )
        messages.success(
            request,
            _("Incident #%(id)s opened; the responsible people have been notified.") % {"id": incident.pk},
        )
        return redirect("incidents:detail", pk=incident.pk)
    return render(request, "incidents/new.html", {"form": form})


@login_required
def detail(request, pk: int):
    incident = _incident(request, pk)
    membership = current_membership(request)
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "can_act": queries.can_act(membership, incident),
            "actions": incident.actions.select_related("actor"),
            "steps": incident.steps.all(),
            "freezes": incident.freezes.select_related("enterprise"),
            "findings": incident.findings.select_related("enterprise"),
            "transitions": services.available_transitions(incident),
            "status_labels": dict(Incident.Status.choices),
            "note_form": NoteForm(),
            "level_form": LevelForm(initial={"level": incident.level}),
            "freeze_form": FreezeForm(),
            "findings_form": FindingsForm(),
            "recompute_form": RecomputeForm(),
            "review_form": ReviewForm(
                initial={"unforeseen": incident.unforeseen, "improvements": incident.improvements}
            ),
            "zh": not (get_language() or "").startswith("en"),
        },
    )


@login_required
@require_POST
def act(request, pk: int, what: str):
    """Every change to an incident, one form each; errors come back as messages on the incident page."""
    incident = _incident(request, pk)
    membership = current_membership(request)
    if not queries.can_act(membership, incident):
        raise Http404
    try:
        _act(request, incident, what, membership)
    except services.IncidentError as exc:
        messages.error(request, exc.message)
    except IntakeError as exc:
        messages.error(request, f"{exc.code}: {exc}")
    return redirect("incidents:detail", pk=incident.pk)


def _act(request, incident: Incident, what: str, membership) -> None:
    post, user = request.POST, request.user
    if what == "note":
        form = NoteForm(post)
        if form.is_valid():
            services.add_note(incident, form.cleaned_data["text"], actor=user)
    elif what == "status":
        form = StatusForm(post)
        if form.is_valid():
            services.set_status(
                incident, form.cleaned_data["target"], actor=user, note=form.cleaned_data["note"]
            )
    elif what == "level":
        form = LevelForm(post)
        if form.is_valid():
            services.set_level(
                incident, form.cleaned_data["level"], actor=user, note=form.cleaned_data["note"]
            )
    elif what == "step":
        step = get_object_or_404(IncidentStep, incident=incident, pk=post.get("step") or 0)
        services.toggle_step(step, actor=user, done=post.get("done") == "1")
    elif what == "freeze":
        form = FreezeForm(post)
        if form.is_valid():
            enterprise = (
                visible_enterprises(membership).filter(credit_code=form.cleaned_data["credit_code"]).first()
            )
            if enterprise is None:
                messages.error(request, _("No such enterprise in your region."))
                return
            services.freeze(incident, enterprise, form.cleaned_data["period"], actor=user)
    elif what == "release":
        row = get_object_or_404(
            IncidentFreeze, incident=incident, pk=post.get("freeze") or 0, released_at=None
        )
        services.release(row, actor=user)
    elif what == "findings":
        form = FindingsForm(post)
        if form.is_valid():
            ids = [int(x) for x in re.findall(r"\d+", form.cleaned_data["findings"])]
            found = list(visible_findings(membership).filter(pk__in=ids))
            services.link_findings(incident, found, actor=user)
    elif what == "review":
        form = ReviewForm(post)
        if form.is_valid():
            services.review(incident, actor=user, **form.cleaned_data)
    elif what == "recompute":
        form = RecomputeForm(post)
        if form.is_valid():
            from kiln.accounting.services import RunError

            try:
                services.track_recomputation(incident, actor=user, year=form.cleaned_data["year"])
            except RunError as exc:
                messages.error(request, f"{exc.code}: {exc.message}")
    else:
        raise Http404


def _report_context(incident: Incident) -> dict:
    return {
        "incident": incident,
        "actions": incident.actions.select_related("actor"),
        "steps": incident.steps.all(),
        "freezes": incident.freezes.select_related("enterprise"),
        "findings": incident.findings.select_related("enterprise"),
        "generated": timezone.now(),
        "zh": not (get_language() or "").startswith("en"),
    }


@login_required
def report(request, pk: int):
    """The incident report (处置报告), printable from the browser."""
    return render(request, "incidents/report.html", _report_context(_incident(request, pk)))


@login_required
def report_markdown(request, pk: int):
    incident = _incident(request, pk)
    text = render_to_string("incidents/report.md", _report_context(incident), request=request)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="incident-{incident.pk}-report.md"'
    return response


@login_required
def playbooks(request):
    membership = _membership(request)
    books = {p.kind: p for p in Playbook.objects.all()}
    rows = [(kind, label, books.get(kind)) for kind, label in Kind.choices]
    return render(
        request,
        "incidents/playbooks.html",
        {
            "rows": rows,
            "can_edit": membership.has_perm(Perm.MANAGE_RULES),
            "zh": not (get_language() or "").startswith("en"),
        },
    )


@login_required
def playbook_edit(request, kind: str):
    membership = membership_with(request, Perm.MANAGE_RULES)
    if kind not in Kind.values:
        raise Http404
    book = Playbook.objects.filter(kind=kind).first()
    initial = {"steps_zh": "\n".join(book.steps_zh), "steps_en": "\n".join(book.steps_en)} if book else {}
    form = PlaybookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        from kiln.audit import services as audit
        from kiln.audit.events import EventType

        before = {"zh": book.steps_zh, "en": book.steps_en} if book else None
        book, _created = Playbook.objects.update_or_create(
            kind=kind,
            defaults={
                "steps_zh": form.lines(form.cleaned_data["steps_zh"]),
                "steps_en": form.lines(form.cleaned_data["steps_en"]),
                "updated_by": request.user,
            },
        )
        audit.record(
            EventType.DATA_UPDATED,
            actor=request.user,
            target=book,
            before=before,
            after={"zh": book.steps_zh, "en": book.steps_en},
            organisation=membership.organisation,
        )
        messages.success(request, _("Playbook saved. Incidents opened from now on use it."))
        return redirect("incidents:playbooks")
    return render(request, "incidents/playbook_edit.html", {"form": form, "kind": Kind(kind)})
