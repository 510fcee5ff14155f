"""Grid API: the grid company feeds metered electricity; scoped readers get monthly sums.

``POST /grid/readings`` takes ``{"rows": [{"credit_code", "date" | "period", "kwh"}], "dry_run": false}``
(Perm.FEED_GRID_DATA; enterprises outside the caller's region are reported as unknown). Status:
201 imported, 200 checked (dry run), 422 rejected; the body is the same in all three.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from kiln.accounts.current import current_membership
from kiln.accounts.roles import Perm
from kiln.grid import queries, services
from kiln.grid.models import MeterBatch
from kiln.registry.queries import visible_enterprises

router = Router(tags=["grid"])
STATUS_CODES = {
    MeterBatch.Status.IMPORTED: 201,
    MeterBatch.Status.CHECKED: 200,
    MeterBatch.Status.REJECTED: 422,
}


class ReadingIn(Schema):
    credit_code: str | None = None
    date: str | None = None
    period: str | None = None
    kwh: float | str | None = None


class ReadingsIn(Schema):
    rows: list[ReadingIn]
    dry_run: bool = False


class ErrorOut(Schema):
    row: int | None
    column: str
    value: str | None
    code: str
    message: str


class BatchOut(Schema):
    batch_id: int | None
    status: str
    ok: bool
    dry_run: bool
    rows: int
    created: int
    replaced: int
    error_count: int
    error_counts: dict[str, int]
    errors: list[ErrorOut]


class MonthOut(Schema):
    period: str
    kwh: float
    complete: bool
    days: int


@router.post("/readings", response={200: BatchOut, 201: BatchOut, 422: BatchOut})
def post_readings(request, body: ReadingsIn):
    membership = current_membership(request)
    if membership is None or not membership.has_perm(Perm.FEED_GRID_DATA):
        raise HttpError(404, "Not found")
    result = services.import_readings(
        [r.dict() for r in body.rows],
        actor=request.user,
        membership=membership,
        door=MeterBatch.Door.API,
        dry_run=body.dry_run,
    )
    return Status(STATUS_CODES[result.status], result.as_dict())


@router.get("/batches/{batch_id}", response=BatchOut)
def get_batch(request, batch_id: int):
    batch = get_object_or_404(queries.visible_batches(current_membership(request)), pk=batch_id)
    return services.GridImportResult(
        batch.status, batch.rows, batch.report, batch.pk, batch.created_count, batch.replaced_count
    ).as_dict()


@router.get("/enterprises/{credit_code}/monthly", response=list[MonthOut])
def monthly(request, credit_code: str, first: str = "0000-01", last: str = "9999-12"):
    ent = get_object_or_404(visible_enterprises(current_membership(request)), credit_code=credit_code)
    frame = services.monthly_frame(type(ent).objects.filter(pk=ent.pk), first, last)
    return frame.select("period", "kwh", "complete", "days").to_dicts()
