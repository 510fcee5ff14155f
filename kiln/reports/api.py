"""Reports API: an enterprise's emission report for a year or a month, as PDF or DOCX.

``GET /reports/{credit_code}/{period}?format=pdf|docx`` (period ``YYYY`` or ``YYYY-MM``). Every export
is audited. Enterprises outside the caller's scope are 404; a period without official results is 422.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from kiln.accounts.current import current_membership
from kiln.registry.queries import visible_enterprises
from kiln.reports import services
from kiln.reports.errors import ReportError

router = Router(tags=["reports"])


class ErrorOut(Schema):
    code: str
    message: str


@router.get(
    "/{credit_code}/{period}",
    response={200: None, 422: ErrorOut},
    openapi_extra={"responses": {200: {"description": "The report file (PDF or DOCX)"}}},
)
def report(request, credit_code: str, period: str, format: str = "pdf"):  # noqa: A002 - the query parameter's name
    membership = current_membership(request)
    if membership is None:
        raise HttpError(404, "Not Found")
    enterprise = get_object_or_404(visible_enterprises(membership), credit_code=credit_code)
    try:
        made = services.export(enterprise, period, format, actor=request.user, request=request)
    except ReportError as exc:
        return Status(422, {"code": exc.code, "message": exc.message})
    response = HttpResponse(made.data, content_type=made.content_type)
    response["Content-Disposition"] = content_disposition_header(True, made.file_name)
    return response
