"""Every write of the intake app (DESIGN.md rule 2): activity imports and enterprise-month freezes.

``import_activity`` is the one pipeline behind every door. It is all-or-nothing: the
batch is read and validated as a whole, and only when there is not a single error are the
batch row, its records, its original (content-addressed) and its ledger entry written, in
one transaction. Rejected batches and dry runs are kept as a batch row holding only the
error report, so it can be fetched again; they own no records and no file.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from kiln.accounts.models import Membership
from kiln.accounts.roles import Perm
from kiln.audit import services as audit
from kiln.audit.events import EventType
from kiln.intake import errors, report, writers
from kiln.intake.errors import FileProblem, IntakeError
from kiln.intake.models import EnterpriseMonth, EvidenceFile, FreezeChange, ImportBatch
from kiln.intake.reading import Table, human_size, read_file, table_from_frame, table_from_records
from kiln.intake.validation import PERIOD_PATTERN, Scope, Validated, normalised_columns, validate
from kiln.ledger import evidence_files
from kiln.ledger import services as ledger

logger = logging.getLogger("kiln.intake")
Door = ImportBatch.Door
# Doors that may run without a membership (then with every enterprise in scope): trusted server-side callers.
SYSTEM_DOORS = {Door.CLI, Door.SQL, Door.DEMO}
HASH_SLICE_ROWS = 100_000
HASHED_COLUMNS = [
    "credit_code",
    "period",
    "item",
    "quantity",
    "unit",
    "canonical_quantity",
    "source",
    "facility",
    "note",
]


@dataclass
class ImportResult:
    status: str
    dry_run: bool
    rows: int
    report: dict
    batch_id: int | None = None
    imported: int = 0
    corrected: int = 0
    source_format: str = ""
    file_sha256: str = ""
    ledger_index: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.status in (ImportBatch.Status.IMPORTED, ImportBatch.Status.CHECKED)

    @property
    def error_count(self) -> int:
        return self.report.get("error_count", 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "status": self.status,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "imported": self.imported,
            "corrected": self.corrected,
            "source_format": self.source_format,
            "file_sha256": self.file_sha256,
            "ledger_index": self.ledger_index,
            "replayed": self.replayed,
            "error_count": self.error_count,
            "error_counts": self.report.get("counts", {}),
            "errors_truncated": self.report.get("truncated", False),
            "errors": report.rendered(self.report, self.headers),
        }

    @classmethod
    def of(cls, batch: ImportBatch, *, replayed: bool = False) -> ImportResult:
        imported = batch.row_count if batch.status == ImportBatch.Status.IMPORTED else 0
        return cls(
            status=batch.status,
            dry_run=batch.dry_run,
            rows=batch.row_count,
            report=batch.report or {},
            batch_id=batch.pk,
            imported=imported,
            corrected=batch.corrected_count,
            source_format=batch.source_format,
            file_sha256=batch.file_sha256,
            ledger_index=batch.ledger_index,
            headers=(batch.report or {}).get("headers", {}),
            replayed=replayed,
        )


@dataclass
class _Input:
    """What was submitted, read into a table (or the reason it could not be)."""

    original: bytes | None  # the bytes to keep; None for frames until needed
    fingerprint: str
    file_name: str
    table: Table | None
    problem: FileProblem | None


def import_activity(
    frame_or_file,
    *,
    actor,
    membership: Membership | None,
    door: str,
    dry_run: bool = False,
    idempotency_key: str | None = None,
    correction_reason: str | None = None,
    file_name: str | None = None,
    sql_source=None,
) -> ImportResult:
    """Validate and (unless ``dry_run``) store a batch of monthly activity data.

    ``frame_or_file``: a Polars frame of strings, a list of row mappings (API), raw bytes, or
    a binary file object (an upload); ``file_name`` (or the file object's ``name``) is checked
    against the content. ``membership`` decides the scope; ``None`` means every enterprise and
    is allowed only for the server-side doors (CLI, SQL sync, demo). A non-empty
    ``correction_reason`` makes the batch an explicit correction: rows for stored keys become
    new versions instead of being refused as duplicates.
    """
    scope = _scope(membership, door)
    correction = bool(correction_reason and correction_reason.strip())
    if correction_reason is not None and not correction:
        raise IntakeError(errors.CORRECTION_REASON_MISSING)
    given = _read(frame_or_file, file_name)
    key = (idempotency_key or "").strip() or None
    if key and actor is not None and not dry_run:
        previous = ImportBatch.objects.filter(submitted_by=actor, idempotency_key=key).first()
        if previous is not None:
            return _replay(previous, given.fingerprint)
    if given.problem is not None:
        validated = Validated(rows=pl.DataFrame(), errors=given.problem.errors, row_count=0)
    else:
        assert given.table is not None
        validated = validate(given.table, scope=scope, correction=correction)
    headers = given.table.headers if given.table else {}
    fields = {
        "door": door,
        "dry_run": dry_run,
        "organisation": membership.organisation if membership else None,
        "submitted_by": actor,
        "fingerprint": given.fingerprint,
        "file_name": given.file_name[:255],
        "source_format": given.table.source_format if given.table else "",
        "row_count": validated.row_count,
        "correction_reason": (correction_reason or "").strip()[:500],
        "sql_source": sql_source,
    }
    if not validated.ok or dry_run:
        built = report.build(validated.errors, row_count=validated.row_count)
        built["headers"] = headers
        status = ImportBatch.Status.CHECKED if validated.ok else ImportBatch.Status.REJECTED
        return _keep_attempt(fields, status, built, key if not dry_run else None)
    return _store(fields, validated, given, headers, key, correction_reason or "", actor)


def _scope(membership: Membership | None, door: str) -> Scope:
    if membership is None:
        if door not in SYSTEM_DOORS:
            raise PermissionDenied("an acting membership is required")
        return Scope(system=True)
    if not membership.has_perm(Perm.SUBMIT_DATA):
        raise PermissionDenied("this membership may not submit data")
    return Scope(membership=membership)


def _read(source, file_name: str | None) -> _Input:
    name = file_name or ""
    try:
        if isinstance(source, pl.DataFrame):
            csv = source.write_csv().encode()
            return _Input(csv, _sha256(csv), name, table_from_frame(source), None)
        if isinstance(source, list):
            body = json.dumps(
                source, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
            ).encode()
            return _Input(body, _sha256(body), name, table_from_records(source), None)
        if isinstance(source, bytes | bytearray):
            data = bytes(source)
        else:
            name = name or Path(getattr(source, "name", "") or "").name
            size = getattr(source, "size", None)
            if size is not None and size > settings.KILN_MAX_UPLOAD_BYTES:
                # Refuse before reading a byte: the size limit is there to protect memory.
                raise FileProblem(errors.FILE_TOO_LARGE, _limit_text())
            data = source.read(settings.KILN_MAX_UPLOAD_BYTES + 1)
        return _Input(data, _sha256(data), name, read_file(data, name or None), None)
    except FileProblem as problem:
        return _Input(None, "", name, None, problem)


def _limit_text() -> str:
    return human_size(settings.KILN_MAX_UPLOAD_BYTES)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _replay(batch: ImportBatch, fingerprint: str) -> ImportResult:
    if batch.fingerprint and fingerprint and batch.fingerprint != fingerprint:
        raise IntakeError(errors.IDEMPOTENCY_CONFLICT)
    return ImportResult.of(batch, replayed=True)


def _keep_attempt(fields: dict, status: str, built: dict, key: str | None) -> ImportResult:
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                **fields, status=status, idempotency_key=key, error_count=built["error_count"], report=built
            )
    except IntegrityError:
        # The same Idempotency-Key arrived twice at once: answer with whatever the first one stored.
        return _replay(
            ImportBatch.objects.get(submitted_by=fields["submitted_by"], idempotency_key=key),
            fields["fingerprint"],
        )
    return ImportResult.of(batch)


def rows_sha256(rows: pl.DataFrame) -> str:
    """SHA-256 of the normalised rows as CSV, in input order: what the ledger entry vouches for.

    Hashed a slice at a time (the header once), so a million rows never sit in memory as one text.
    """
    digest = hashlib.sha256()
    hashed = rows.select(HASHED_COLUMNS)
    for start in range(0, max(hashed.height, 1), HASH_SLICE_ROWS):
        digest.update(hashed.slice(start, HASH_SLICE_ROWS).write_csv(include_header=start == 0).encode())
    return digest.hexdigest()


def _store(
    fields: dict, validated: Validated, given: _Input, headers: dict, key: str | None, reason: str, actor
) -> ImportResult:
    rows = normalised_columns(validated.rows)
    original = given.original if given.original is not None else b""
    stored_path = evidence_files.media_root() / evidence_files.relative_path(_sha256(original))
    existed = stored_path.exists()
    try:
        with transaction.atomic():
            if (
                key is not None
                and ImportBatch.objects.filter(submitted_by=actor, idempotency_key=key).exists()
            ):
                raise _AlreadyStored
            batch = _write(fields, rows, original, headers, key, reason, actor)
    except _AlreadyStored:
        return _replay(ImportBatch.objects.get(submitted_by=actor, idempotency_key=key), given.fingerprint)
    except IntegrityError:
        _forget_file(stored_path, existed)
        if key is not None and ImportBatch.objects.filter(submitted_by=actor, idempotency_key=key).exists():
            return _replay(
                ImportBatch.objects.get(submitted_by=actor, idempotency_key=key), given.fingerprint
            )
        raise
    except BaseException:
        _forget_file(stored_path, existed)
        raise
    logger.info(
        "activity import batch=%s door=%s rows=%s corrected=%s",
        batch.pk,
        batch.door,
        batch.row_count,
        batch.corrected_count,
    )
    return ImportResult.of(batch)


class _AlreadyStored(Exception):
    pass


def _write(
    fields: dict, rows: pl.DataFrame, original: bytes, headers: dict, key: str | None, reason: str, actor
) -> ImportBatch:
    """The one transaction of an import: file, batch, superseded versions, records, ledger, audit."""
    old_ids = rows.get_column("_old_id").drop_nulls().to_list()
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Hashing the rows and storing the original need no database: the second core does them while
        # this one writes the records (Polars, hashlib and the database drivers release the GIL).
        proofs = pool.submit(_proofs, rows, original)
        batch = ImportBatch.objects.create(
            **fields,
            status=ImportBatch.Status.IMPORTED,
            idempotency_key=key,
            corrected_count=len(old_ids),
            report={
                "ok": True,
                "rows": rows.height,
                "error_count": 0,
                "counts": {},
                "errors": [],
                "headers": headers,
            },
        )
        writers.supersede(old_ids, batch_id=batch.pk)
        writers.write_records(writers.record_frame(rows, batch_id=batch.pk, reason=reason.strip()[:500]))
        (sha256, path), batch.rows_sha256 = proofs.result()
    batch.file_sha256, batch.file_path = sha256, path
    entry = ledger.append(
        "activity_batch",
        f"intake.batch:{batch.pk}",
        {
            "batch": batch.pk,
            "door": batch.door,
            "file_sha256": sha256,
            "path": path,
            "rows": rows.height,
            "rows_sha256": batch.rows_sha256,
            "corrected": len(old_ids),
            "correction_reason": batch.correction_reason,
        },
        actor=actor,
    )
    batch.ledger_index = entry.index
    batch.save(update_fields=["file_sha256", "file_path", "rows_sha256", "ledger_index"])
    audit.record(
        EventType.DATA_IMPORTED,
        actor=actor,
        target=batch,
        organisation=batch.organisation,
        after={
            "rows": rows.height,
            "corrected": len(old_ids),
            "door": batch.door,
            "file_sha256": sha256,
            "ledger_index": entry.index,
            "reason": batch.correction_reason,
        },
    )
    return batch


def _proofs(rows: pl.DataFrame, original: bytes) -> tuple[tuple[str, str], str]:
    """The stored original's (SHA-256, path) and the rows' SHA-256."""
    return ledger.store_file(io.BytesIO(original)), rows_sha256(rows)


def _forget_file(path: Path, existed: bool) -> None:
    """Remove an original stored by a transaction that rolled back, unless something else owns those bytes."""
    if existed or not path.exists():
        return
    sha256 = path.name
    if (
        ImportBatch.objects.filter(file_sha256=sha256).exists()
        or EvidenceFile.objects.filter(sha256=sha256).exists()
    ):
        return
    path.unlink(missing_ok=True)


# --- freezing enterprise-months ---------------------------------------------------------------------


def _checked_period(period: str) -> str:
    if not re.match(PERIOD_PATTERN, period or ""):
        raise IntakeError(errors.PERIOD_FORMAT)
    return period


@transaction.atomic
def freeze_month(enterprise, period: str, *, actor, reason: str) -> EnterpriseMonth:
    """Freeze an enterprise-month: imports touching it are refused until it is unfrozen."""
    return _set_frozen(enterprise, period, frozen=True, actor=actor, reason=reason)


@transaction.atomic
def unfreeze_month(enterprise, period: str, *, actor, reason: str) -> EnterpriseMonth:
    return _set_frozen(enterprise, period, frozen=False, actor=actor, reason=reason)


def _set_frozen(enterprise, period: str, *, frozen: bool, actor, reason: str) -> EnterpriseMonth:
    reason = (reason or "").strip()
    if not reason:
        raise IntakeError(errors.CORRECTION_REASON_MISSING)
    month, _ = EnterpriseMonth.objects.select_for_update().get_or_create(
        enterprise=enterprise, period=_checked_period(period)
    )
    before = {"frozen": month.frozen, "reason": month.reason}
    month.frozen = frozen
    month.reason = reason[:500]
    month.frozen_by = actor if actor is not None and getattr(actor, "pk", None) else None
    month.frozen_at = timezone.now()
    month.save(update_fields=["frozen", "reason", "frozen_by", "frozen_at"])
    FreezeChange.objects.create(month=month, frozen=frozen, reason=month.reason, actor=month.frozen_by)
    audit.record(
        EventType.DATA_UPDATED,
        actor=actor,
        target=("intake.enterprisemonth", month.pk, str(month)),
        organisation=enterprise,
        before=before,
        after={"frozen": frozen, "reason": month.reason},
    )
    return month
