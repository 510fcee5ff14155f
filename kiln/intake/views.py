"""Intake pages: upload activity data, see batches and their reports, deposit monthly evidence.

Every page answers 404 to anyone who may not use it, so outsiders learn nothing.
"""

from __future__ import annotations

import json
from pathlib import PurePath

import polars as pl
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kiln.accounts.current import current_membership
from kiln.intake import blank_forms, columns, deadlines, deposits, errors, report, services
from kiln.intake.api import report_download
from kiln.intake.errors import IntakeError, message
from kiln.intake.forms import EvidenceForm, FreezeForm, UploadForm
from kiln.intake.models import ActivityRecord, EnterpriseMonth, EvidenceFile, ImportBatch
from kiln.intake.queries import (
    can_deposit,
    can_freeze,
    can_submit,
    is_government,
    visible_batches,
    visible_evidence,
)
from kiln.ledger import services as ledger
from kiln.registry.models import Organisation
from kiln.registry.queries import PLATFORM_WIDE, visible_enterprises

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_SHOWN = 200
MONTHS_SHOWN = 12
# The stored (canonical) data source codes as people read them.
SOURCE_LABELS = {
    "meter": gettext_lazy("metered"),
    "invoice": gettext_lazy("invoice"),
    "lab": gettext_lazy("laboratory analysis"),
    "estimate": gettext_lazy("estimate"),
    "grid": gettext_lazy("grid company"),
}
# Deposit refusals that are about a field other than the file.
EVIDENCE_ERROR_FIELDS = {errors.EVIDENCE_CMA_NOT_LAB: "cma_cnas"}


def _submitter(request):
    membership = current_membership(request)
    if not can_submit(membership):
        raise Http404
    return membership


def _error_context(result) -> dict:
    """The errors shown on a page (capped) and whether they are all about the file as a whole.

    Problems with the whole file (empty, wrong type, unreadable, a missing header) have no row:
    the page states them plainly instead of a table of empty row, column and value cells.
    """
    if result is None or result.ok:
        return {"errors": [], "whole_file": False}
    shown = report.rendered({"errors": result.report.get("errors", [])[:ERRORS_SHOWN]}, result.headers)
    whole_file = bool(shown) and len(shown) == result.error_count and all(e.get("row") is None for e in shown)
    return {"errors": shown, "whole_file": whole_file}


def _is_enterprise(membership) -> bool:
    return membership is not None and membership.organisation.kind == Organisation.Kind.ENTERPRISE


def _attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def index(request):
    membership = current_membership(request)
    if can_submit(membership):
        return redirect("intake:upload")
    if is_government(membership):
        return redirect("intake:overdue")
    raise Http404


# --- activity data ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    membership = _submitter(request)
    result = None
    file_name = ""
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            file_name = form.cleaned_data["file"].name
            reason = form.cleaned_data["correction_reason"].strip() or None
            result = services.import_activity(
                form.cleaned_data["file"],
                actor=request.user,
                membership=membership,
                door=ImportBatch.Door.UPLOAD,
                dry_run=form.cleaned_data["dry_run"],
                correction_reason=reason,
            )
    else:
        form = UploadForm()
    context = {
        "form": form,
        "result": result,
        **_error_context(result),
        "file_name": file_name,
        "is_enterprise": _is_enterprise(membership),
        "columns": columns.COLUMNS,
        "catalogue": blank_forms.catalogue(),
    }
    return render(request, "intake/upload.html", context)


@login_required
def template_download(request, fmt: str):
    membership = _submitter(request)
    code = membership.organisation.credit_code or blank_forms.EXAMPLE_CODE
    if fmt == "xlsx":
        return _attachment(
            HttpResponse(blank_forms.xlsx_template(code), content_type=XLSX_TYPE),
            "kiln-activity-template.xlsx",
        )
    return _attachment(
        HttpResponse(blank_forms.csv_template(), content_type="text/csv; charset=utf-8"),
        "kiln-activity-template.csv",
    )


@login_required
def batch_list(request):
    membership = current_membership(request)
    page = Paginator(visible_batches(membership), 50).get_page(request.GET.get("page"))
    everything = membership is not None and membership.role in PLATFORM_WIDE
    return render(
        request,
        "intake/batch_list.html",
        {
            "page": page,
            "membership_is_enterprise": _is_enterprise(membership),
            "sees_everything": everything,
            "may_submit": can_submit(membership),
        },
    )


@login_required
def batch_detail(request, batch_id: int):
    membership = current_membership(request)
    batch = get_object_or_404(visible_batches(membership), pk=batch_id)
    result = services.ImportResult.of(batch)
    context = {
        "batch": batch,
        "result": result,
        **_error_context(result),
        "is_enterprise": _is_enterprise(membership),
        "may_submit": can_submit(membership),
    }
    return render(request, "intake/batch_detail.html", context)


@login_required
def batch_report(request, batch_id: int, fmt: str):
    batch = get_object_or_404(visible_batches(current_membership(request)), pk=batch_id)
    return report_download(batch, fmt)


# --- evidence deposit ---------------------------------------------------------------------------------


@login_required
def deposit_overview(request):
    """The acting enterprise's months (12 at a time, newest first) with deposit status and reported rows."""
    membership = current_membership(request)
    if membership is None or membership.organisation.kind != Organisation.Kind.ENTERPRISE:
        if is_government(membership):
            return redirect("intake:overdue")
        raise Http404
    enterprise = get_object_or_404(visible_enterprises(membership), pk=membership.organisation_id)
    newest = deadlines.shift(deadlines.last_overdue_period(), 2)  # the current month (or the one before)
    last = request.GET.get("until") or newest
    try:
        deposits.check_period(last)
    except IntakeError:
        last = newest
    periods = [deadlines.shift(last, -i) for i in range(MONTHS_SHOWN)]
    stored = {m.period: m for m in EnterpriseMonth.objects.filter(enterprise=enterprise, period__in=periods)}
    reported = dict(
        ActivityRecord.objects.filter(enterprise=enterprise, period__in=periods, current=True)
        .values_list("period")
        .annotate(n=Count("id"))
    )
    months = []
    for period in periods:
        month = stored.get(period)
        state = deadlines.status(period, month.first_deposit_at if month else None)
        months.append(
            {
                "period": period,
                "status": state,
                "label": deadlines.DepositStatus(state).label,
                "deadline": deadlines.deadline(period),
                "month": month,
                "rows": reported.get(period, 0),
            }
        )
    later = deadlines.shift(last, MONTHS_SHOWN)
    context = {
        "enterprise": enterprise,
        "months": months,
        "earlier": deadlines.shift(last, -MONTHS_SHOWN),
        "later": min(later, newest) if last < newest else None,
        "deadline_days": deadlines.deadline_days(),
        "may_submit": can_submit(membership),
        "latest_data": ActivityRecord.objects.filter(enterprise=enterprise, current=True)
        .order_by("-period")
        .values_list("period", flat=True)
        .first(),
    }
    return render(request, "intake/deposit_overview.html", context)


def _visible_month(request, credit_code: str, period: str):
    membership = current_membership(request)
    enterprise = get_object_or_404(visible_enterprises(membership), credit_code=credit_code)
    try:
        deposits.check_period(period)
    except IntakeError as exc:
        raise Http404 from exc
    return membership, enterprise


@login_required
@require_http_methods(["GET", "POST"])
def deposit_month(request, credit_code: str, period: str):
    membership, enterprise = _visible_month(request, credit_code, period)
    may_deposit = can_deposit(membership, enterprise)
    form = EvidenceForm()
    if request.method == "POST":
        if not may_deposit:
            raise Http404
        form = EvidenceForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                deposits.deposit(
                    enterprise=enterprise,
                    period=period,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    actor=request.user,
                    cma_cnas=form.cleaned_data["cma_cnas"],
                )
            except IntakeError as exc:
                field = EVIDENCE_ERROR_FIELDS.get(exc.code, "file")
                form.add_error(field, f"{exc.code}: {message(exc.code, detail=exc.detail)}")
            else:
                messages.success(request, _("The evidence was deposited and logged in the evidence ledger."))
                return redirect("intake:deposit-month", credit_code=credit_code, period=period)
    state, month = deposits.month_status(enterprise, period)
    records = list(
        ActivityRecord.objects.filter(enterprise=enterprise, period=period, current=True).order_by(
            "item", "facility"
        )
    )
    names = {code: (zh, en) for code, zh, en, _unit, _category in blank_forms.catalogue()}
    chinese = not (get_language() or "").startswith("en")
    for r in records:
        zh, en = names.get(r.item, ("", ""))
        r.item_name = zh if chinese else en
        r.source_label = SOURCE_LABELS.get(r.source, r.source)
    context = {
        "enterprise": enterprise,
        "period": period,
        "month": month,
        "status": state,
        "status_label": deadlines.DepositStatus(state).label,
        "deadline": deadlines.deadline(period),
        "files": EvidenceFile.objects.filter(enterprise=enterprise, period=period).select_related(
            "uploaded_by"
        ),
        "form": form if may_deposit else None,
        "freeze_form": FreezeForm() if can_freeze(membership) else None,
        "changes": month.changes.select_related("actor")[:20] if month else [],
        "records": records,
        "is_government": is_government(membership),
        "is_enterprise": _is_enterprise(membership),
        "may_submit": can_submit(membership),
        "visible_batches": set(
            visible_batches(membership)
            .filter(pk__in={r.batch_id for r in records})
            .values_list("pk", flat=True)
        ),
    }
    return render(request, "intake/deposit_month.html", context)


@login_required
@require_POST
def freeze(request, credit_code: str, period: str):
    membership, enterprise = _visible_month(request, credit_code, period)
    if not can_freeze(membership):
        raise Http404
    form = FreezeForm(request.POST)
    frozen = EnterpriseMonth.objects.filter(enterprise=enterprise, period=period, frozen=True).exists()
    if form.is_valid() and (form.cleaned_data["action"] == "freeze") == frozen:
        # A second tab or a stale page: nothing to change, so no history entry either.
        if frozen:
            messages.info(request, _("The month was already frozen; nothing changed."))
        else:
            messages.info(request, _("The month was not frozen; nothing changed."))
    elif form.is_valid():
        if form.cleaned_data["action"] == "freeze":
            services.freeze_month(enterprise, period, actor=request.user, reason=form.cleaned_data["reason"])
            messages.success(
                request,
                _("The month is frozen: imports and corrections for it are refused until it is unfrozen."),
            )
        else:
            services.unfreeze_month(
                enterprise, period, actor=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("The month is unfrozen: its data can be corrected again."))
    else:
        messages.error(request, _("A reason is required."))
    return redirect("intake:deposit-month", credit_code=credit_code, period=period)


@login_required
def evidence_download(request, evidence_id: int):
    evidence = get_object_or_404(visible_evidence(current_membership(request)), pk=evidence_id)
    path = deposits.stored_path(evidence)
    if path is None or not path.exists():
        raise Http404
    response = FileResponse(open(path, "rb"), content_type=evidence.content_type)  # noqa: SIM115 - FileResponse closes it
    return _attachment(response, f"{evidence.sha256[:12]}-{evidence.pk}{_suffix(evidence.original_name)}")


@login_required
def proof(request, kind: str, item_id: int):
    """The ledger proof of a batch or deposit the user may see, to check offline with ``verifier.py``."""
    membership = current_membership(request)
    items = visible_batches(membership) if kind == "batch" else visible_evidence(membership)
    item = get_object_or_404(items.filter(ledger_index__isnull=False), pk=item_id)
    bundle = ledger.owner_proof(item.ledger_index)
    body = json.dumps(bundle, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    return _attachment(response, f"kiln-proof-{kind}-{item_id}-entry-{item.ledger_index}.json")


def _suffix(name: str) -> str:
    suffix = PurePath(name).suffix.lower()
    return suffix if suffix.isascii() and len(suffix) <= 6 else ""


class _FrameRows:
    """A frame as the sequence Paginator wants: only the page shown becomes Python dicts."""

    def __init__(self, frame):
        self.frame = frame

    def __len__(self) -> int:
        return self.frame.height

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, _ = index.indices(self.frame.height)
            return self.frame.slice(start, stop - start).to_dicts()
        return self.frame.row(index, named=True)


@login_required
def overdue(request):
    """Government view: key emitters in my region with months whose evidence deposit is overdue.

    One row per enterprise (most overdue months first) with links to each month; ``?by=month`` lists
    every enterprise-month instead.
    """
    membership = current_membership(request)
    if not is_government(membership):
        raise Http404
    last = deadlines.last_overdue_period()
    first = request.GET.get("from") or deadlines.shift(last, -(MONTHS_SHOWN - 1))
    try:
        deposits.check_period(first)
    except IntakeError:
        first = deadlines.shift(last, -(MONTHS_SHOWN - 1))
    rows = deposits.overdue(visible_enterprises(membership), first=first, last=last)
    by_month = request.GET.get("by") == "month"
    if not by_month:
        rows = (
            rows.group_by("enterprise_id", "credit_code", "name", "region")
            .agg(pl.col("period").sort(descending=True).alias("periods"), pl.len().alias("months"))
            .sort(["months", "credit_code"], descending=[True, False])
        )
    page = Paginator(_FrameRows(rows), 100).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "first": first,
        "last": last,
        "total": int(rows["months"].sum()) if not by_month else rows.height,
        "enterprises": rows.height if not by_month else rows["enterprise_id"].n_unique(),
        "by_month": by_month,
    }
    return render(request, "intake/overdue.html", context)
