"""Intake API: submit monthly activity data as JSON, read a batch's status and its error report.

Mounted by ``kiln/api.py`` as ``api.add_router("/intake", router)``.

``POST /intake/activity`` takes ``{"rows": [...], "dry_run": false, "correction_reason": null}``
with rows in the interchange format (English keys, Chinese headers also accepted). An
``Idempotency-Key`` header makes retries safe: the same key from the same user returns the
first answer (``"replayed": true``) and never stores twice; the same key with a different
body is refused with 409. Status: 201 imported, 200 checked (dry run), 422 rejected; the
body is the same in all three. Row numbers in errors are 1-based positions in ``rows``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from kiln.accounts.current import current_membership
from kiln.accounts.tokens import token_or_session
from kiln.intake import report
from kiln.intake.errors import IntakeError
from kiln.intake.models import ImportBatch
from kiln.intake.queries import can_submit, visible_batches
from kiln.intake.services import ImportResult, import_activity

router = Router(tags=["intake"], auth=token_or_session)
MAX_KEY_LENGTH = 100
STATUS_CODES: dict[str, int] = {
    ImportBatch.Status.IMPORTED: 201,
    ImportBatch.Status.CHECKED: 200,
    ImportBatch.Status.REJECTED: 422,
}


class ActivityRowIn(Schema):
    """One row: one enterprise, one month, one item. Values are checked by the intake validator, not here."""

    credit_code: str | None = Field(None, description="统一社会信用代码 (GB 32100-2015)")
    period: str | None = Field(None, description="月份, YYYY-MM")
    item: str | None = Field(None, description="项目代码, from the item catalogue")
    quantity: float | str | None = Field(None, description="数量, ≥ 0")
    unit: str | None = Field(None, description="单位")
    source: str | None = Field(None, description="数据来源: meter / invoice / lab / estimate / grid")
    facility: str | None = Field(None, description="设施")
    note: str | None = Field(None, description="备注")


class BatchIn(Schema):
    rows: list[ActivityRowIn]
    dry_run: bool = False
    correction_reason: str | None = Field(None, description="makes the batch a correction of stored data")


class ErrorOut(Schema):
    row: int | None
    column: str
    value: str
    code: str
    detail: str
    message_zh: str
    message_en: str


class BatchOut(Schema):
    batch_id: int | None
    status: str
    ok: bool
    dry_run: bool
    rows: int
    imported: int
    corrected: int
    source_format: str
    file_sha256: str
    ledger_index: int | None
    replayed: bool
    error_count: int
    error_counts: dict[str, int]
    errors_truncated: bool
    errors: list[ErrorOut]


class BatchSummaryOut(Schema):
    batch_id: int
    status: str
    door: str
    dry_run: bool
    rows: int
    error_count: int
    created: str


class RefusalOut(Schema):
    code: str
    message: str


def _answer(result: ImportResult, response: HttpResponse | None = None):
    if response is not None and result.replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(STATUS_CODES.get(str(result.status), 200), result.as_dict())


@router.post(
    "/activity",
    response={200: BatchOut, 201: BatchOut, 422: BatchOut, 403: RefusalOut, 409: RefusalOut, 400: RefusalOut},
    summary="Submit monthly activity data",
)
def submit_activity(request, batch: BatchIn, response: HttpResponse):
    membership = current_membership(request)
    if not can_submit(membership):
        return Status(
            403, {"code": "INT-FORBIDDEN", "message": "This membership may not submit activity data."}
        )
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key.strip()) <= MAX_KEY_LENGTH:
        return Status(
            400,
            {
                "code": "INT-IDEMPOTENCY-KEY",
                "message": f"An Idempotency-Key has 1 to {MAX_KEY_LENGTH} characters.",
            },
        )
    rows: list[dict[str, Any]] = [r.dict(exclude_none=True) for r in batch.rows]
    try:
        result = import_activity(
            rows,
            actor=request.user,
            membership=membership,
            door=ImportBatch.Door.API,
            dry_run=batch.dry_run,
            idempotency_key=key,
            correction_reason=batch.correction_reason,
        )
    except IntakeError as exc:
        return Status(
            409 if exc.code.startswith("INT-IDEMPOTENCY") else 400, {"code": exc.code, "message": str(exc)}
        )
    except PermissionDenied:
        return Status(
            403, {"code": "INT-FORBIDDEN", "message": "This membership may not submit activity data."}
        )
    return _answer(result, response)


def _batch(request, batch_id: int) -> ImportBatch:
    """A batch of the caller's organisation; anyone else's is 404, as if it did not exist."""
    return get_object_or_404(visible_batches(current_membership(request)), pk=batch_id)


@router.get("/batches", response=list[BatchSummaryOut], summary="Batches of my organisation")
@paginate
def list_batches(request):
    return [
        {
            "batch_id": b.pk,
            "status": b.status,
            "door": b.door,
            "dry_run": b.dry_run,
            "rows": b.row_count,
            "error_count": b.error_count,
            "created": b.created.isoformat(),
        }
        for b in visible_batches(current_membership(request))[:1000]
    ]


@router.get("/batches/{batch_id}", response=BatchOut, summary="A batch's status (errors included)")
def batch_status(request, batch_id: int):
    return ImportResult.of(_batch(request, batch_id)).as_dict()


@router.get(
    "/batches/{batch_id}/report", response=BatchOut, summary="A batch's error report (JSON, CSV or XLSX)"
)
def batch_report(request, batch_id: int, format: str = "json"):  # noqa: A002 - the public parameter name
    batch = _batch(request, batch_id)
    if format == "json":
        return ImportResult.of(batch).as_dict()
    if format not in ("csv", "xlsx"):
        raise HttpError(400, "format is json, csv or xlsx")
    return report_download(batch, format)


def report_download(batch: ImportBatch, fmt: str) -> HttpResponse:
    headers = (batch.report or {}).get("headers", {})
    if fmt == "csv":
        response = HttpResponse(
            report.csv_bytes(batch.report or {}, headers), content_type="text/csv; charset=utf-8"
        )
    elif fmt == "xlsx":
        response = HttpResponse(
            report.xlsx_bytes(batch.report or {}, headers),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-errors.{fmt}"'
    return response
