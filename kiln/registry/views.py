from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from kiln.accounts.current import current_membership, membership_with
from kiln.accounts.roles import Perm
from kiln.registry.columns import ENTERPRISE_COLUMNS, INDUSTRY_COLUMNS, REGION_COLUMNS
from kiln.registry.errors import RowError
from kiln.registry.exports import (
    ENTERPRISE_HEADERS,
    csv_bytes,
    csv_chunks,
    enterprise_rows,
    error_report_headers,
    error_report_rows,
    xlsx_bytes,
)
from kiln.registry.forms import ImportForm
from kiln.registry.queries import visible_enterprises
from kiln.registry.services import IMPORT_KINDS, import_registry_file

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_SESSION_KEY = "kiln_registry_import_report"
# The last report lives in the session until the next import; cap it so the session stays small.
MAX_STORED_ERRORS = 5000
ERRORS_SHOWN = 200


def _attachment(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def enterprise_list(request):
    membership = current_membership(request)
    qs = visible_enterprises(membership)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(credit_code__startswith=q.upper())
    page = Paginator(qs.order_by("region__code", "name"), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": q,
        "can_export": bool(membership and membership.has_perm(Perm.VIEW_REGISTRY)),
        "can_import": bool(membership and membership.has_perm(Perm.MANAGE_REGISTRY)),
    }
    return render(request, "registry/enterprise_list.html", context)


@login_required
def enterprise_detail(request, credit_code: str):
    enterprise = get_object_or_404(visible_enterprises(current_membership(request)), credit_code=credit_code)
    return render(request, "registry/enterprise_detail.html", {"enterprise": enterprise})


@login_required
def enterprise_export(request, fmt: str):
    """The enterprises the acting membership may see, with Chinese headers, as CSV or XLSX."""
    enterprises = visible_enterprises(membership_with(request, Perm.VIEW_REGISTRY))
    filename = f"enterprises-{timezone.localdate():%Y%m%d}.{fmt}"
    response: HttpResponseBase
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_chunks(ENTERPRISE_HEADERS, enterprise_rows(enterprises)), CSV_TYPE
        )
    else:
        response = HttpResponse(
            xlsx_bytes(ENTERPRISE_HEADERS, enterprise_rows(enterprises), "企业"), XLSX_TYPE
        )
    return _attachment(response, filename)


@login_required
@require_http_methods(["GET", "POST"])
def registry_import(request):
    membership = membership_with(request, Perm.MANAGE_REGISTRY)
    result = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = import_registry_file(
                actor=membership, kind=form.cleaned_data["kind"], data=upload.read()
            )
            if result.ok:
                request.session.pop(REPORT_SESSION_KEY, None)
            else:
                request.session[REPORT_SESSION_KEY] = {
                    "kind": result.kind,
                    "total": len(result.errors),
                    "errors": [e.as_dict() for e in result.errors[:MAX_STORED_ERRORS]],
                }
    else:
        form = ImportForm()
    context = {
        "form": form,
        "result": result,
        "kind_label": IMPORT_KINDS[result.kind].label if result else "",
        "errors_shown": result.errors[:ERRORS_SHOWN] if result else [],
        "errors_stored": min(len(result.errors), MAX_STORED_ERRORS) if result else 0,
        "layouts": [
            (IMPORT_KINDS["enterprises"].label, ENTERPRISE_COLUMNS),
            (IMPORT_KINDS["regions"].label, REGION_COLUMNS),
            (IMPORT_KINDS["industries"].label, INDUSTRY_COLUMNS),
        ],
    }
    return render(request, "registry/import.html", context)


@login_required
def import_report(request):
    """The error report of this session's last failed import, as CSV."""
    membership_with(request, Perm.MANAGE_REGISTRY)
    report = request.session.get(REPORT_SESSION_KEY)
    if not report:
        raise Http404
    errors = [RowError.from_dict(d) for d in report["errors"]]
    response = HttpResponse(csv_bytes(error_report_headers(), error_report_rows(errors)), CSV_TYPE)
    return _attachment(response, f"import-errors-{report['kind']}.csv")
