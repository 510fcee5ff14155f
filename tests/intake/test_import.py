"""The import pipeline: all or nothing, stored originals, ledger entries, corrections, reports."""

import csv
import hashlib
import io
import json

import openpyxl
import pytest

from kiln.intake import bulk, errors, report, services
from kiln.intake.errors import IntakeError
from kiln.intake.models import ActivityRecord, EnterpriseMonth, FreezeChange, ImportBatch
from kiln.ledger import evidence_files
from kiln.ledger.models import LedgerEntry
from tests.intake.files import ZH_HEADERS, csv_bytes, row, xlsx_bytes


def test_good_file_is_stored_with_its_original_and_a_ledger_entry(world, submit, media_root):
    data = csv_bytes(
        [row(world.e1), row(world.e1, item="electricity_purchased", quantity="3500", unit="万kWh")]
    )
    result = submit(data, name="三月.csv")
    assert result.ok and result.status == "imported" and result.imported == 2
    batch = ImportBatch.objects.get(pk=result.batch_id)
    assert (batch.door, batch.organisation_id, batch.submitted_by, batch.file_name) == (
        "upload",
        world.e1.pk,
        world.e1_staff,
        "三月.csv",
    )
    assert batch.file_sha256 == hashlib.sha256(data).hexdigest()
    stored = media_root / batch.file_path
    assert stored.read_bytes() == data and batch.file_path == evidence_files.relative_path(batch.file_sha256)
    entry = LedgerEntry.objects.get(index=batch.ledger_index)
    assert entry.kind == "activity_batch"
    assert entry.data == {
        "batch": batch.pk,
        "door": "upload",
        "file_sha256": batch.file_sha256,
        "path": batch.file_path,
        "rows": 2,
        "rows_sha256": batch.rows_sha256,
        "corrected": 0,
        "correction_reason": "",
    }
    electricity = ActivityRecord.objects.get(item="electricity_purchased")
    assert (
        electricity.canonical_quantity == 35_000 and electricity.batch == batch and electricity.version == 1
    )


def test_rows_hash_is_of_the_normalised_rows(world, submit):
    first = submit(csv_bytes([row(world.e1, quantity="1200")]))
    batch = ImportBatch.objects.get(pk=first.batch_id)
    ActivityRecord.objects.all().delete()
    # The same data written differently (GBK, Chinese headers, full-width digits) hashes the same.
    again = submit(csv_bytes([row(world.e1, quantity="１２００")], encoding="gbk", headers=ZH_HEADERS))
    assert again.ok
    assert ImportBatch.objects.get(pk=again.batch_id).rows_sha256 == batch.rows_sha256


def test_one_bad_row_saves_nothing(world, submit, media_root):
    result = submit(csv_bytes([row(world.e1), row(world.e1, item="diesel", quantity="-1")]))
    assert result.status == "rejected" and result.imported == 0
    assert ActivityRecord.objects.count() == 0
    batch = ImportBatch.objects.get(pk=result.batch_id)
    assert (batch.file_path, batch.ledger_index, batch.error_count) == ("", None, 1)
    assert not (media_root / "evidence").exists() or not any((media_root / "evidence").rglob("*/*/*"))
    assert not LedgerEntry.objects.filter(kind="activity_batch").exists()


def test_dry_run_saves_nothing(world, submit):
    result = submit(csv_bytes([row(world.e1)]), dry_run=True)
    assert result.ok and result.status == "checked" and result.dry_run
    assert ActivityRecord.objects.count() == 0
    assert not LedgerEntry.objects.filter(kind="activity_batch").exists()


def test_a_crash_in_the_middle_stores_nothing(world, submit, monkeypatch, media_root):
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 2)
    calls = []
    original = bulk.write_chunk

    def failing(write, chunk):
        calls.append(chunk.height)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        original(write, chunk)

    monkeypatch.setattr(bulk, "write_chunk", failing)
    rows = [row(world.e1, item=item) for item in ("raw_coal", "diesel", "coke", "lpg", "natural_gas")]
    for r in rows:
        if r[2] == "natural_gas":
            r[4] = "万Nm3"
    entries_before = LedgerEntry.objects.count()
    with pytest.raises(RuntimeError, match="disk on fire"):
        submit(csv_bytes(rows))
    assert calls == [2, 2]  # the first chunk was written before the failure ...
    assert ActivityRecord.objects.count() == 0  # ... and rolled back with everything else
    assert ImportBatch.objects.count() == 0
    assert LedgerEntry.objects.count() == entries_before
    assert not [p for p in (media_root / "evidence").rglob("*") if p.is_file()]


def test_correction_creates_a_new_version(world, submit):
    first = submit(csv_bytes([row(world.e1, quantity="100"), row(world.e1, item="diesel", quantity="5")]))
    assert first.ok
    refused = submit(csv_bytes([row(world.e1, quantity="120")]))
    assert [e["code"] for e in refused.report["errors"]] == [errors.DUPLICATE_STORED]
    fixed = submit(
        csv_bytes([row(world.e1, quantity="120"), row(world.e1, item="coke", quantity="1")]),
        correction_reason="meter misread in March",
    )
    assert fixed.ok and fixed.corrected == 1 and fixed.imported == 2
    versions = ActivityRecord.objects.filter(item="raw_coal").order_by("version")
    old, new = list(versions)
    assert (old.version, old.current, old.quantity, old.superseded_by_id) == (1, False, 100, fixed.batch_id)
    assert (new.version, new.current, new.quantity, new.reason) == (2, True, 120, "meter misread in March")
    assert (
        new.batch.submitted_by == world.e1_staff and new.batch.correction_reason == "meter misread in March"
    )
    assert (
        ActivityRecord.objects.get(item="coke").version == 1
    )  # a new key in a correction batch is version 1
    again = submit(csv_bytes([row(world.e1, quantity="121")]), correction_reason="second look")
    assert again.ok
    assert list(
        ActivityRecord.objects.filter(item="raw_coal").values_list("version", "current").order_by("version")
    ) == [(1, False), (2, False), (3, True)]
    entry = LedgerEntry.objects.get(index=ImportBatch.objects.get(pk=fixed.batch_id).ledger_index)
    assert entry.data["corrected"] == 1 and entry.data["correction_reason"] == "meter misread in March"


def test_correction_needs_a_reason(world, submit):
    with pytest.raises(IntakeError) as caught:
        submit(csv_bytes([row(world.e1)]), correction_reason="   ")
    assert caught.value.code == errors.CORRECTION_REASON_MISSING


def test_correction_of_a_frozen_month_is_refused(world, submit):
    assert submit(csv_bytes([row(world.e1)])).ok
    services.freeze_month(world.e1, "2024-03", actor=world.gov_a, reason="verified")
    result = submit(csv_bytes([row(world.e1, quantity="1")]), correction_reason="late fix")
    assert [e["code"] for e in result.report["errors"]] == [errors.MONTH_FROZEN]
    services.unfreeze_month(world.e1, "2024-03", actor=world.gov_a, reason="reopened for the fix")
    assert submit(csv_bytes([row(world.e1, quantity="1")]), correction_reason="late fix").ok
    month = EnterpriseMonth.objects.get(enterprise=world.e1, period="2024-03")
    assert not month.frozen and month.reason == "reopened for the fix"
    assert list(FreezeChange.objects.filter(month=month).order_by("id").values_list("frozen", "reason")) == [
        (True, "verified"),
        (False, "reopened for the fix"),
    ]


def test_freeze_needs_a_reason_and_a_valid_month(world):
    with pytest.raises(IntakeError):
        services.freeze_month(world.e1, "2024-03", actor=world.gov_a, reason=" ")
    with pytest.raises(IntakeError):
        services.freeze_month(world.e1, "2024-13", actor=world.gov_a, reason="x")


def test_xlsx_with_chinese_headers(world, submit):
    result = submit(xlsx_bytes([row(world.e1), row(world.e1, item="diesel", quantity=2.5)]), name="月报.xlsx")
    assert result.ok, result.report
    assert result.source_format == "xlsx"
    assert ActivityRecord.objects.get(item="diesel").quantity == 2.5


def test_gbk_file_imports(world, submit):
    result = submit(
        csv_bytes(
            [row(world.e1, unit="吨", source="发票", note="增值税发票")], encoding="gbk", headers=ZH_HEADERS
        )
    )
    assert result.ok and result.source_format == "csv (GB18030)"
    assert ActivityRecord.objects.get().note == "增值税发票"


def test_file_problems_become_a_report(world, submit, settings):
    settings.KILN_MAX_UPLOAD_BYTES = 50
    result = submit(csv_bytes([row(world.e1)]))
    assert result.status == "rejected"
    assert result.report["errors"] == [
        {"row": None, "column": "", "value": "", "code": errors.FILE_TOO_LARGE, "detail": "50 bytes"}
    ]


def test_idempotency_key_at_the_service(world, submit):
    data = csv_bytes([row(world.e1)])
    first = submit(data, idempotency_key="k-1")
    again = submit(data, idempotency_key="k-1")
    assert again.replayed and again.batch_id == first.batch_id and again.status == "imported"
    assert ActivityRecord.objects.count() == 1 and ImportBatch.objects.count() == 1
    with pytest.raises(IntakeError) as caught:
        submit(csv_bytes([row(world.e1, quantity="2")]), idempotency_key="k-1")
    assert caught.value.code == errors.IDEMPOTENCY_CONFLICT
    # Keys belong to their user: another user's identical key is another request.
    other = submit(csv_bytes([row(world.e2)]), user=world.e2_staff, idempotency_key="k-1")
    assert other.ok and not other.replayed


def test_rejected_request_replays_its_rejection(world, submit):
    data = csv_bytes([row(world.e2)])
    first = submit(data, idempotency_key="k-2")
    again = submit(data, idempotency_key="k-2")
    assert first.status == again.status == "rejected" and again.batch_id == first.batch_id and again.replayed


# --- the exported report ---------------------------------------------------------------------------------


def _rejected_with_formula(world, submit):
    evil = "=cmd|' /C calc'!A0"
    return submit(csv_bytes([row(evil), row(world.e1, facility="@SUM(A1)", note=evil)]))


def test_csv_report_neutralises_formulas(world, submit):
    result = _rejected_with_formula(world, submit)
    batch = ImportBatch.objects.get(pk=result.batch_id)
    data = report.csv_bytes(batch.report, batch.report["headers"])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    values = [r[2] for r in rows[1:]]
    assert "'=CMD|' /C CALC'!A0" in values  # normalised to upper case, but never a live formula
    assert "'=cmd|' /C calc'!A0" in values
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


def test_xlsx_report_neutralises_formulas(world, submit):
    result = _rejected_with_formula(world, submit)
    batch = ImportBatch.objects.get(pk=result.batch_id)
    workbook = openpyxl.load_workbook(io.BytesIO(report.xlsx_bytes(batch.report, batch.report["headers"])))
    sheet = workbook.worksheets[0]
    cells = [c for r in sheet.iter_rows(min_row=2, values_only=True) for c in r if c]
    assert cells and not any(str(c).startswith(("=", "+", "-", "@")) for c in cells)
    assert all(c.data_type == "s" for r in sheet.iter_rows() for c in r if c.value is not None)


def test_report_has_both_languages(world, submit):
    result = submit(csv_bytes([row(world.e1, quantity="-1")]))
    [error] = result.as_dict()["errors"]
    assert error["message_en"] == "The quantity is negative."
    assert error["message_zh"]  # the zh-Hans text once TRANSLATIONS.tsv is merged into the catalogue
    json.dumps(result.as_dict())  # JSON-safe
