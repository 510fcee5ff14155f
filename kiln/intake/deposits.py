"""Monthly evidence deposit (月度存证): store a file content-addressed, log it, track the deadline.

Only PDF, PNG, JPEG, XLSX and CSV are accepted, judged by the bytes, not the name. Each
deposit is appended to the evidence ledger (kind ``evidence_deposit``) in the same
transaction as its ``EvidenceFile`` row, so the ledger vouches for every stored file.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import re
from pathlib import Path, PurePath

import polars as pl
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kiln.audit import services as audit
from kiln.audit.events import EventType
from kiln.intake import deadlines, errors, filetypes, zipguard
from kiln.intake.errors import FileProblem, IntakeError
from kiln.intake.models import EnterpriseMonth, EvidenceFile, ImportBatch
from kiln.intake.reading import human_size
from kiln.intake.validation import PERIOD_PATTERN, this_month
from kiln.ledger import evidence_files
from kiln.ledger import services as ledger
from kiln.registry.models import Enterprise

ALLOWED = (filetypes.PDF, filetypes.PNG, filetypes.JPEG, filetypes.XLSX, filetypes.TEXT)


def max_bytes() -> int:
    return int(getattr(settings, "KILN_MAX_EVIDENCE_BYTES", settings.KILN_MAX_UPLOAD_BYTES))


def check_period(period: str, today: datetime.date | None = None) -> str:
    if not re.match(PERIOD_PATTERN, period or ""):
        raise IntakeError(errors.PERIOD_FORMAT)
    if period > this_month(today):
        raise IntakeError(errors.PERIOD_FUTURE)
    return period


def _read_checked(upload, name: str) -> tuple[bytes, str]:
    """The file's bytes and content type, or ``IntakeError`` when it is not acceptable evidence."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes():
        raise IntakeError(errors.FILE_TOO_LARGE, human_size(max_bytes()))
    data = upload if isinstance(upload, bytes) else upload.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise IntakeError(errors.FILE_TOO_LARGE, human_size(max_bytes()))
    if not data:
        raise IntakeError(errors.FILE_EMPTY)
    kind = filetypes.sniff(data[:8192], data)
    if kind not in ALLOWED:
        raise IntakeError(errors.EVIDENCE_TYPE, filetypes.LABELS.get(kind, kind))
    promised = filetypes.promised_by(name)
    if promised is not None and promised != kind:
        raise IntakeError(
            errors.FILE_TYPE_MISMATCH,
            f"{filetypes.extension(name)} ≠ {filetypes.LABELS.get(kind, kind)}",
        )
    if kind == filetypes.TEXT and filetypes.extension(name) not in (".csv", ".txt", ".tsv"):
        raise IntakeError(errors.EVIDENCE_TYPE, filetypes.extension(name) or "text")
    if kind == filetypes.XLSX:
        try:
            zipguard.inspect(data)  # a bomb is refused here rather than by whoever opens it later
        except FileProblem as problem:
            raise IntakeError(problem.code, problem.errors["detail"][0]) from problem
    return data, filetypes.CONTENT_TYPES[kind]


def deposit(
    *,
    enterprise: Enterprise,
    period: str,
    kind: str,
    upload,
    actor,
    original_name: str = "",
    cma_cnas: bool = False,
) -> EvidenceFile:
    """Deposit one evidence file for an enterprise-month."""
    check_period(period)
    if kind not in EvidenceFile.Kind.values:
        raise IntakeError(errors.EVIDENCE_TYPE, kind)
    if cma_cnas and kind != EvidenceFile.Kind.LAB_REPORT:
        raise IntakeError(errors.EVIDENCE_CMA_NOT_LAB)
    name = PurePath(original_name or getattr(upload, "name", "") or "evidence").name[:255]
    data, content_type = _read_checked(upload, name)
    target = evidence_files.media_root() / evidence_files.relative_path(hashlib.sha256(data).hexdigest())
    existed = target.exists()
    try:
        return _record(enterprise, period, kind, cma_cnas, io.BytesIO(data), name, content_type, actor)
    except BaseException:
        _forget(target, existed)
        raise


@transaction.atomic
def _record(enterprise, period, kind, cma_cnas, stream, name, content_type, actor) -> EvidenceFile:
    entry = ledger.deposit_evidence(
        stream,
        reference=f"intake.evidence:{enterprise.credit_code}:{period}",
        data={
            "enterprise": enterprise.credit_code,
            "period": period,
            "kind": kind,
            "cma_cnas": cma_cnas,
            "original_name": name,
            "content_type": content_type,
        },
        actor=actor,
    )
    stored = entry.data
    user = actor if getattr(actor, "pk", None) else None
    evidence = EvidenceFile.objects.create(
        enterprise=enterprise,
        period=period,
        kind=kind,
        cma_cnas=cma_cnas,
        sha256=stored["sha256"],
        path=stored["path"],
        original_name=name,
        size=stored["size"],
        content_type=content_type,
        uploaded_by=user,
        ledger_index=entry.index,
    )
    month, _ = EnterpriseMonth.objects.select_for_update().get_or_create(enterprise=enterprise, period=period)
    now = timezone.now()
    month.first_deposit_at = month.first_deposit_at or now
    month.last_deposit_at = now
    month.evidence_count += 1
    month.save(update_fields=["first_deposit_at", "last_deposit_at", "evidence_count"])
    audit.record(
        EventType.DATA_CREATED,
        actor=actor,
        target=evidence,
        organisation=enterprise,
        after={"period": period, "kind": kind, "sha256": evidence.sha256, "ledger_index": entry.index},
    )
    return evidence


def _forget(path: Path, existed: bool) -> None:
    if existed or not path.exists():
        return
    sha256 = path.name
    if (
        EvidenceFile.objects.filter(sha256=sha256).exists()
        or ImportBatch.objects.filter(file_sha256=sha256).exists()
    ):
        return
    path.unlink(missing_ok=True)


def stored_path(evidence: EvidenceFile) -> Path | None:
    return evidence_files.resolve(evidence.path)


# --- status -------------------------------------------------------------------------------------------


def obliged(enterprises):
    """Enterprises that must deposit monthly: the key emitters (the national ETS regime)."""
    return enterprises.filter(key_emitter=True)


def month_status(
    enterprise: Enterprise, period: str, today: datetime.date | None = None
) -> tuple[str, EnterpriseMonth | None]:
    month = EnterpriseMonth.objects.filter(enterprise=enterprise, period=period).first()
    return deadlines.status(period, month.first_deposit_at if month else None, today), month


def overdue(enterprises, *, first: str, last: str, today: datetime.date | None = None) -> pl.DataFrame:
    """Enterprise-months from ``first`` to ``last`` whose deadline has passed with nothing deposited.

    Columns: enterprise_id, credit_code, name, region, period, deadline. Computed as an
    anti-join over whole columns: obliged enterprises × months, minus deposited months.
    """
    last = min(last, deadlines.last_overdue_period(today))
    schema = {"enterprise_id": pl.Int64, "credit_code": pl.String, "name": pl.String, "region": pl.String}
    rows = list(obliged(enterprises).values_list("id", "credit_code", "name", "region__name"))
    ents = pl.DataFrame(rows, orient="row", schema=schema)
    periods = deadlines.periods_between(first, last) if first <= last else []
    if ents.height == 0 or not periods:
        return ents.with_columns(
            pl.lit("").alias("period"), pl.lit(None, dtype=pl.Date).alias("deadline")
        ).clear()
    deposited = pl.DataFrame(
        list(
            EnterpriseMonth.objects.filter(
                first_deposit_at__isnull=False,
                period__gte=first,
                period__lte=last,
                enterprise__in=obliged(enterprises),
            ).values_list("enterprise_id", "period")
        ),
        orient="row",
        schema={"enterprise_id": pl.Int64, "period": pl.String},
    )
    months = pl.DataFrame({"period": periods, "deadline": [deadlines.deadline(p) for p in periods]})
    return (
        ents.join(months, how="cross")
        .join(deposited, on=["enterprise_id", "period"], how="anti")
        .sort(["period", "credit_code"], descending=[True, False])
    )
