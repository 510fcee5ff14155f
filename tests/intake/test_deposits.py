"""Monthly evidence deposit: accepted types by content, ledger entries, deadlines, overdue lists."""

import datetime
import hashlib
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from kiln.intake import deadlines, deposits, errors
from kiln.intake.deadlines import DepositStatus
from kiln.intake.errors import IntakeError
from kiln.intake.models import EnterpriseMonth, EvidenceFile
from kiln.ledger.models import LedgerEntry
from kiln.registry.models import Enterprise
from tests.intake.files import xlsx_bytes

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def deposit(world, data, name, *, kind="invoice", period="2024-03", **kwargs):
    return deposits.deposit(
        enterprise=world.e1,
        period=period,
        kind=kind,
        upload=SimpleUploadedFile(name, data),
        actor=world.e1_staff,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (PDF, "发票.pdf", "application/pdf"),
        (PNG, "meter.png", "image/png"),
        (JPEG, "meter.JPG", "image/jpeg"),
        (b"date,kwh\n2024-03-01,100\n", "readings.csv", "text/csv"),
    ],
)
def test_accepted_types(world, media_root, data, name, content_type):
    evidence = deposit(world, data, name)
    assert evidence.content_type == content_type and evidence.original_name == name
    assert evidence.sha256 == hashlib.sha256(data).hexdigest() and evidence.size == len(data)
    assert (media_root / evidence.path).read_bytes() == data


def test_xlsx_is_accepted(world):
    assert deposit(world, xlsx_bytes([["a"]]), "台账.xlsx", kind="stamped_ledger").content_type.endswith(
        ".sheet"
    )


def test_deposit_is_logged_in_the_ledger(world):
    evidence = deposit(world, PDF, "lab.pdf", kind="lab_report", cma_cnas=True)
    entry = LedgerEntry.objects.get(index=evidence.ledger_index)
    assert entry.kind == "evidence_deposit"
    data = entry.data
    assert {k: data[k] for k in ("sha256", "path", "enterprise", "period", "kind", "cma_cnas")} == {
        "sha256": evidence.sha256,
        "path": evidence.path,
        "enterprise": world.e1.credit_code,
        "period": "2024-03",
        "kind": "lab_report",
        "cma_cnas": True,
    }
    month = EnterpriseMonth.objects.get(enterprise=world.e1, period="2024-03")
    assert month.evidence_count == 1 and month.first_deposit_at is not None


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00", "invoice.pdf", errors.EVIDENCE_TYPE),  # a Windows executable
        (PDF, "invoice.png", errors.FILE_TYPE_MISMATCH),
        (PNG, "scan.pdf", errors.FILE_TYPE_MISMATCH),
        (b"<html><script>alert(1)</script></html>", "page.html", errors.EVIDENCE_TYPE),
        (b"", "empty.pdf", errors.FILE_EMPTY),
    ],
)
def test_refused_files(world, data, name, code):
    with pytest.raises(IntakeError) as caught:
        deposit(world, data, name)
    assert caught.value.code == code
    assert not EvidenceFile.objects.exists()


def test_size_limit(world, settings):
    settings.KILN_MAX_EVIDENCE_BYTES = 10
    with pytest.raises(IntakeError) as caught:
        deposit(world, PDF, "big.pdf")
    assert caught.value.code == errors.FILE_TOO_LARGE


def test_cma_mark_only_on_lab_reports(world):
    with pytest.raises(IntakeError) as caught:
        deposit(world, PDF, "invoice.pdf", kind="invoice", cma_cnas=True)
    assert caught.value.code == errors.EVIDENCE_CMA_NOT_LAB


def test_future_month_refused(world):
    with pytest.raises(IntakeError) as caught:
        deposit(world, PDF, "x.pdf", period="2199-01")
    assert caught.value.code == errors.PERIOD_FUTURE


def test_same_file_twice_is_stored_once(world, media_root):
    first, second = deposit(world, PDF, "a.pdf"), deposit(world, PDF, "b.pdf", period="2024-04")
    assert first.path == second.path
    assert len([p for p in (media_root / "evidence").rglob("*") if p.is_file()]) == 1


def test_failed_deposit_leaves_no_file(world, media_root, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(EnterpriseMonth.objects, "select_for_update", broken)
    with pytest.raises(RuntimeError):
        deposit(world, PDF, "a.pdf")
    assert not EvidenceFile.objects.exists()
    assert not [p for p in (media_root / "evidence").rglob("*") if p.is_file()]


# --- deadlines ----------------------------------------------------------------------------------------


def test_deadline_is_forty_days_after_month_end(settings):
    assert deadlines.deadline("2024-02") == datetime.date(2024, 4, 9)  # 29 Feb + 40 days
    assert deadlines.deadline("2024-12") == datetime.date(2025, 2, 9)
    settings.KILN_DEPOSIT_DEADLINE_DAYS = 10
    assert deadlines.deadline("2024-03") == datetime.date(2024, 4, 10)


def test_status_through_the_month():
    at = datetime.datetime
    assert deadlines.status("2024-03", None, datetime.date(2024, 3, 31)) == DepositStatus.NOT_DUE
    assert deadlines.status("2024-03", None, datetime.date(2024, 4, 1)) == DepositStatus.DUE
    assert deadlines.status("2024-03", None, datetime.date(2024, 5, 10)) == DepositStatus.DUE
    assert deadlines.status("2024-03", None, datetime.date(2024, 5, 11)) == DepositStatus.OVERDUE
    tz = datetime.timezone(datetime.timedelta(hours=8))
    assert deadlines.status("2024-03", at(2024, 5, 10, 23, 0, tzinfo=tz)) == DepositStatus.ON_TIME
    assert deadlines.status("2024-03", at(2024, 5, 11, 0, 30, tzinfo=tz)) == DepositStatus.LATE


def test_late_deposit(world):
    with time_machine.travel("2024-06-01 10:00 +0800"):
        deposit(world, PDF, "late.pdf")
        state, _ = deposits.month_status(world.e1, "2024-03")
    assert state == DepositStatus.LATE


def test_overdue_list_for_a_region(world):
    Enterprise.objects.filter(pk__in=[world.e1.pk, world.e2.pk]).update(key_emitter=True)
    with time_machine.travel("2024-03-20 10:00 +0800"):
        deposit(world, PDF, "on-time.pdf", period="2024-01")
    with time_machine.travel("2024-06-15 10:00 +0800"):
        from kiln.registry.queries import visible_enterprises
        from tests.intake.conftest import membership_of

        # Deadlines passed for Jan–Apr (April's is 10 June); January was deposited.
        gov_a = visible_enterprises(membership_of(world.gov_a))
        rows = deposits.overdue(gov_a, first="2024-01", last="2024-12")
        assert sorted(zip(rows["credit_code"], rows["period"], strict=True)) == [
            (world.e1.credit_code, p) for p in ("2024-02", "2024-03", "2024-04")
        ]
        everyone = deposits.overdue(Enterprise.objects.all(), first="2024-01", last="2024-12")
        assert everyone.height == 3 + 4


def test_only_key_emitters_are_listed(world):
    rows = deposits.overdue(
        Enterprise.objects.all(), first="2024-01", last="2024-02", today=datetime.date(2024, 6, 1)
    )
    assert rows.height == 0


def test_io_reader_upload(world):
    evidence = deposits.deposit(
        enterprise=world.e1,
        period="2024-03",
        kind="other",
        upload=io.BytesIO(PDF),
        original_name="x.pdf",
        actor=world.e1_staff,
    )
    assert evidence.original_name == "x.pdf"
