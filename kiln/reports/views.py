"""Pages of emission reports: the report list and downloads, the admin's templates, region report jobs."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kiln.accounting.models import Aggregate, CalculationRun
from kiln.accounts.current import current_membership
from kiln.accounts.roles import Perm, Role
from kiln.registry.models import Organisation, Region
from kiln.registry.queries import visible_enterprises, visible_regions
from kiln.reports import docx_default, services
from kiln.reports import render as report_render
from kiln.reports.errors import ReportError
from kiln.reports.models import ReportFormat, ReportJob, ReportTemplate

PAGE = 200


def _membership(request):
    membership = current_membership(request)
    if membership is None or not membership.has_perm(Perm.VIEW_REGISTRY):
        raise Http404
    return membership


def _admin(request):
    membership = current_membership(request)
    if membership is None or membership.role != Role.PLATFORM_ADMIN or not membership.active:
        raise Http404
    return membership


def _job_maker(request):
    membership = current_membership(request)
    if (
        membership is None
        or not membership.has_perm(Perm.REVIEW)
        or membership.organisation.kind not in (Organisation.Kind.GOVERNMENT, Organisation.Kind.OPERATOR)
    ):
        raise Http404
    return membership


@login_required
def index(request):
    """Enterprises (one's own, or those in scope) with the years and months the official results cover."""
    membership = _membership(request)
    enterprises = visible_enterprises(membership)
    query = request.GET.get("q", "").strip()
    if membership.organisation.kind != Organisation.Kind.ENTERPRISE:
        enterprises = (
            enterprises.filter(name__icontains=query) | enterprises.filter(credit_code__icontains=query)
            if query
            else enterprises
        )
    enterprises = list(enterprises.order_by("credit_code")[:50])
    official = list(CalculationRun.objects.filter(official=True).select_related("region").order_by("-year"))
    rows = []
    for enterprise in enterprises:
        years = []
        for run in official:
            if not enterprise.region.path.startswith(run.region.path) or any(
                y["year"] == run.year for y in years
            ):
                continue
            months = list(
                Aggregate.objects.filter(
                    run=run,
                    dimension="enterprise",
                    key=enterprise.credit_code,
                    period__startswith=f"{run.year}-",
                )
                .order_by("period")
                .values_list("period", flat=True)
            )
            if months:
                years.append({"year": run.year, "months": months, "run": run.pk})
        rows.append((enterprise, years))
    return render(
        request,
        "reports/index.html",
        {
            "rows": rows,
            "q": query,
            "can_jobs": _can(lambda: _job_maker(request)),
            "can_templates": _can(lambda: _admin(request)),
        },
    )


def _can(check) -> bool:
    try:
        check()
    except Http404:
        return False
    return True


@login_required
def download(request, credit_code: str, period: str, fmt: str):
    membership = _membership(request)
    enterprise = get_object_or_404(visible_enterprises(membership), credit_code=credit_code)
    if fmt not in ReportFormat.values:
        raise Http404
    try:
        report = services.export(enterprise, period, fmt, actor=request.user, request=request)
    except ReportError as exc:
        messages.error(request, exc.message)
        return redirect("reports:index")
    response = HttpResponse(report.data, content_type=report.content_type)
    response["Content-Disposition"] = content_disposition_header(True, report.file_name)
    return response


# --- templates (platform admins) ---------------------------------------------------------------------------


class TemplateUploadForm(forms.Form):
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=ReportFormat.choices)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    note = forms.CharField(
        label=gettext_lazy("What changed"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    file = forms.FileField(label=gettext_lazy("Template file (HTML for PDF, DOCX for Word)"))
    activate = forms.BooleanField(label=gettext_lazy("Use it from now on"), required=False, initial=True)


@login_required
def templates(request):
    membership = _admin(request)
    form = TemplateUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = services.upload_template(
                actor=request.user,
                fmt=data["format"],
                name=data["name"],
                data=data["file"].read(services.MAX_TEMPLATE_BYTES + 1),
                note=data["note"],
                activate=data["activate"],
            )
        except ReportError as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(request, _("Template version %(v)s is stored.") % {"v": made.version})
            return redirect("reports:templates")
    return render(
        request,
        "reports/templates.html",
        {
            "membership": membership,
            "form": form,
            "versions": ReportTemplate.objects.select_related("created_by").defer("docx", "html"),
            "active": {fmt: report_render.active_template(fmt) for fmt in ReportFormat.values},
        },
    )


@login_required
@require_POST
def activate(request):
    _admin(request)
    fmt = request.POST.get("format", "")
    if fmt not in ReportFormat.values:
        messages.error(request, _("The format must be pdf or docx."))
        return redirect("reports:templates")
    pk = request.POST.get("template", "")
    template = get_object_or_404(ReportTemplate, pk=pk, format=fmt) if pk else None
    services.activate_template(template, actor=request.user, fmt=fmt)
    messages.success(request, _("The active template is changed."))
    return redirect("reports:templates")


@login_required
def template_source(request, pk: int):
    _admin(request)
    template = get_object_or_404(ReportTemplate, pk=pk)
    if template.format == ReportFormat.PDF:
        data, kind, ext = template.html.encode(), "text/plain; charset=utf-8", "html"
    else:
        data, kind, ext = bytes(template.docx or b""), report_render.DOCX_TYPE, "docx"
    response = HttpResponse(data, content_type=kind)
    response["Content-Disposition"] = content_disposition_header(
        True, f"report-template-v{template.version}.{ext}"
    )
    return response


@login_required
def default_source(request, fmt: str):
    _admin(request)
    if fmt == ReportFormat.PDF:
        source = Path(__file__).resolve().parent / "templates" / report_render.DEFAULT_HTML
        data, kind, ext = source.read_bytes(), "text/plain; charset=utf-8", "html"
    elif fmt == ReportFormat.DOCX:
        data, kind, ext = docx_default.default_template(), report_render.DOCX_TYPE, "docx"
    else:
        raise Http404
    response = HttpResponse(data, content_type=kind)
    response["Content-Disposition"] = content_disposition_header(True, f"report-template-default.{ext}")
    return response


# --- jobs ------------------------------------------------------------------------------------------------


class JobForm(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("Region"))
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=ReportFormat.choices)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.code, f"{r.code} {r.label}") for r in regions]


def _job_regions(membership):
    return visible_regions(membership).filter(level__gte=Region.Level.PROVINCE).order_by("code")


def _visible_jobs(membership):
    return ReportJob.objects.filter(region__in=visible_regions(membership)).select_related(
        "region", "requested_by"
    )


@login_required
def jobs(request):
    membership = _job_maker(request)
    form = JobForm(
        request.POST or None,
        regions=_job_regions(membership),
        initial={"year": timezone.localdate().year - 1},
    )
    if request.method == "POST" and form.is_valid():
        region = get_object_or_404(_job_regions(membership), code=form.cleaned_data["region"])
        try:
            job = services.start_job(
                actor=request.user,
                membership=membership,
                region=region,
                year=form.cleaned_data["year"],
                fmt=form.cleaned_data["format"],
                enterprises=visible_enterprises(membership),
            )
        except ReportError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("reports:job", pk=job.pk)
    return render(request, "reports/jobs.html", {"form": form, "jobs": _visible_jobs(membership)[:PAGE]})


@login_required
def job(request, pk: int):
    membership = _job_maker(request)
    item = get_object_or_404(_visible_jobs(membership), pk=pk)
    template = "reports/_job_progress.html" if request.htmx else "reports/job.html"
    return render(request, template, {"job": item})


@login_required
def job_download(request, pk: int):
    from django.conf import settings

    membership = _job_maker(request)
    item = get_object_or_404(_visible_jobs(membership), pk=pk, status=ReportJob.Status.DONE)
    path = settings.VAR_DIR / item.output_path if item.output_path else None
    if path is None or not path.exists():
        raise Http404
    response = HttpResponse(path.read_bytes(), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, f"reports-{item.region.code}-{item.year}-{item.format}.zip"
    )
    return response
