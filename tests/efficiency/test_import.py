"""Economic data import: headers in both languages, encodings, row errors with stable codes, all or
nothing, scope, versions instead of overwrites, the page and ``kiln import-economic``."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from kiln.audit.models import AuditEvent
from kiln.efficiency.models import EconomicBatch, EconomicRecord
from kiln.efficiency.services import import_economic
from tests.efficiency.conftest import membership_of
from tests.registry.files import csv_bytes, xlsx_bytes

ZH = ["统一社会信用代码", "年份", "工业增加值（万元）", "工业总产值（万元）"]
EN = ["credit_code", "year", "value_added_10k_cny", "output_value_10k_cny"]
IMPORT_URL = reverse("efficiency:economic-import")
REPORT_URL = reverse("efficiency:economic-report")


def run(data: bytes, user=None, **kwargs):
    membership = membership_of(user) if user is not None else None
    door = "upload" if user is not None else "cli"
    return import_economic(data, actor=user, membership=membership, door=door, **kwargs)


def codes_of(result):
    return [(e.row, e.code) for e in result.errors]


def test_chinese_headers_in_gbk_are_imported(world):
    data = csv_bytes([ZH, [world.e1.credit_code, "2024", "1,234.5", "5000"]], encoding="gbk")
    result = run(data, world.admin)
    assert result.ok and result.created == 1 and result.source_format == "csv (GB18030)"
    rec = EconomicRecord.objects.get(enterprise=world.e1, year=2024)
    assert rec.value_added_10k_cny == Decimal("1234.5") and rec.output_value_10k_cny == Decimal("5000")
    assert rec.current and rec.version == 1 and rec.uploaded_by == world.admin
    event = AuditEvent.objects.get(event_type=304, target_type="efficiency.economicbatch")
    assert event.after["created"] == 1


def test_english_headers_xlsx_and_full_width_numbers(world):
    data = xlsx_bytes(
        [EN, [world.e1.credit_code, 2023, "１２３.４", None], [world.e2.credit_code, "2023年", 77, 300]]
    )
    result = run(data)
    assert result.ok and result.created == 2 and result.source_format == "xlsx"
    assert EconomicRecord.objects.get(enterprise=world.e1, year=2023).value_added_10k_cny == Decimal("123.4")
    assert EconomicRecord.objects.get(enterprise=world.e1, year=2023).output_value_10k_cny is None


def test_negative_and_zero_value_added_are_stored_as_reported(world):
    result = run(
        csv_bytes([EN, [world.e1.credit_code, "2024", "-20", ""], [world.e2.credit_code, "2024", "0", ""]])
    )
    assert result.ok and result.created == 2


def test_row_errors_have_stable_codes_and_nothing_is_saved(world):
    future = 2100
    rows = [
        EN,
        [world.e1.credit_code, "2024", "100", "200"],  # row 2: fine
        ["91339902MA0000009X", "2024", "1", ""],  # row 3: a valid code nobody registered
        ["913399020000000000", "2024", "1", ""],  # row 4: wrong check character
        [world.e2.credit_code, "24", "1", ""],  # row 5: year
        [world.e2.credit_code, str(future), "1", ""],  # row 6: future year
        [world.e2.credit_code, "2022", "abc", ""],  # row 7: number
        [world.e2.credit_code, "2021", "5", "-1"],  # row 8: negative output
        [world.e1.credit_code, "2024", "100", "200"],  # row 9: duplicate of row 2
        [world.e2.credit_code, "2020", "", ""],  # row 10: value added required
    ]
    result = run(csv_bytes(rows))
    found = codes_of(result)
    assert (3, "ECO-ENTERPRISE-UNKNOWN") in found
    assert (4, "REG-CREDIT-CHECKSUM") in found
    assert (5, "ECO-YEAR-INVALID") in found
    assert (6, "ECO-YEAR-IN-FUTURE") in found
    assert (7, "ECO-NUMBER-INVALID") in found
    assert (8, "ECO-OUTPUT-NEGATIVE") in found
    assert (9, "ECO-DUPLICATE-IN-FILE") in found
    assert (10, "REG-REQUIRED") in found
    assert not EconomicRecord.objects.exists() and not EconomicBatch.objects.exists()
    duplicate = next(e for e in result.errors if e.code == "ECO-DUPLICATE-IN-FILE")
    assert "2" in str(duplicate.message)  # names the row it repeats, in either language


def test_missing_header_and_unreadable_file(world):
    assert codes_of(run(csv_bytes([["credit_code", "year"], [world.e1.credit_code, "2024"]]))) == [
        (1, "REG-HEADER-MISSING")
    ]
    assert codes_of(run(b"\x00\x01garbage\x00")) == [(None, "REG-FILE-UNREADABLE")]
    assert codes_of(run(b"")) == [(None, "REG-FILE-EMPTY")]


def test_scope_out_of_reach_reads_as_unknown(world):
    # E1's staff may report E1 only; E2 reads exactly like a code that does not exist.
    result = run(csv_bytes([EN, [world.e2.credit_code, "2024", "10", ""]]), world.e1_staff)
    assert codes_of(result) == [(2, "ECO-ENTERPRISE-UNKNOWN")]
    assert run(csv_bytes([EN, [world.e1.credit_code, "2024", "10", ""]]), world.e1_staff).ok
    # Region A's government may not report for region B's enterprise.
    assert codes_of(run(csv_bytes([EN, [world.e2.credit_code, "2024", "10", ""]]), world.gov_a)) == [
        (2, "ECO-ENTERPRISE-UNKNOWN")
    ]


def test_roles_without_the_permission_are_refused(world):
    result = run(csv_bytes([EN, [world.e1.credit_code, "2024", "10", ""]]), world.verifier_e1)
    assert codes_of(result) == [(None, "ECO-NO-SCOPE")]
    with pytest.raises(ValueError):
        import_economic(b"x", actor=None, membership=None, door="upload")


def test_changed_figures_become_a_new_version_and_history_is_kept(world):
    first = run(csv_bytes([EN, [world.e1.credit_code, "2024", "100", ""]]))
    same = run(csv_bytes([EN, [world.e1.credit_code, "2024", "100.0000", ""]]))
    assert same.ok and same.unchanged == 1 and same.created == 0
    changed = run(
        csv_bytes([EN, [world.e1.credit_code, "2024", "110", ""]]), reason="revised by the statistics office"
    )
    assert changed.corrected == 1
    versions = list(EconomicRecord.objects.filter(enterprise=world.e1, year=2024).order_by("version"))
    assert [(v.version, v.current, v.value_added_10k_cny) for v in versions] == [
        (1, False, Decimal("100")),
        (2, True, Decimal("110")),
    ]
    assert versions[0].superseded_by_id == changed.batch_id != first.batch_id
    assert EconomicBatch.objects.get(pk=changed.batch_id).reason == "revised by the statistics office"


def test_dry_run_saves_nothing(world):
    result = run(csv_bytes([EN, [world.e1.credit_code, "2024", "100", ""]]), dry_run=True)
    assert result.ok and result.created == 1 and result.batch_id is None
    assert not EconomicRecord.objects.exists()


# --- the page ------------------------------------------------------------------------------------------


def upload(client, data: bytes, **extra):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile("economic.csv", data), **extra})


def test_page_imports_for_enterprise_staff(client_for, world):
    client = client_for(world.e1_staff)
    assert "工业增加值（万元）" in client.get(IMPORT_URL).text
    response = upload(client, csv_bytes([ZH, [world.e1.credit_code, "2024", "100", "300"]]))
    assert 'data-import-result="ok"' in response.text
    assert EconomicRecord.objects.filter(enterprise=world.e1).count() == 1


def test_page_shows_errors_and_the_report_is_neutralised(client_for, world):
    client = client_for(world.gov_a)
    response = upload(client, csv_bytes([EN, ["=1+1", "2024", "100", ""]]))
    assert 'data-import-result="errors"' in response.text and "REG-CREDIT-LENGTH" in response.text
    report = client.get(REPORT_URL)
    assert report.status_code == 200
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("2,credit_code,'=1+1,REG-CREDIT-LENGTH,")


def test_page_and_report_are_404_for_outsiders(client_for, world):
    client = client_for(world.verifier_unassigned)
    assert client.get(IMPORT_URL).status_code == 404
    assert upload(client, csv_bytes([EN, [world.e1.credit_code, "2024", "1", ""]])).status_code == 404
    assert client.get(REPORT_URL).status_code == 404
    assert not EconomicRecord.objects.exists()


def test_page_requires_login(client):
    assert client.get(IMPORT_URL).status_code == 302


# --- the command ---------------------------------------------------------------------------------------


def test_cli_imports_and_prints_json(world, tmp_path, capsys):
    path = tmp_path / "economic.csv"
    path.write_bytes(csv_bytes([ZH, [world.e1.credit_code, "2024", "100", "300"]]))
    call_command("import_economic", str(path), "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["created"] == 1 and out["batch_id"]
    assert EconomicBatch.objects.get(pk=out["batch_id"]).door == "cli"


def test_cli_dry_run_and_rejection_exit_code(world, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([EN, [world.e1.credit_code, "2024", "100", ""]]))
    call_command("import_economic", str(good), "--dry-run")
    assert "would import 1 rows" in capsys.readouterr().out
    assert not EconomicRecord.objects.exists()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([EN, [world.e1.credit_code, "1999", "100", ""]]))
    with pytest.raises(CommandError) as excinfo:
        call_command("import_economic", str(bad), "--json")
    assert excinfo.value.returncode == 1
    out = json.loads(capsys.readouterr().out)
    assert out["errors"][0]["code"] == "ECO-YEAR-INVALID"


def test_cli_acts_as_a_user_within_their_scope(world, tmp_path, capsys):
    path = tmp_path / "e2.csv"
    path.write_bytes(csv_bytes([EN, [world.e2.credit_code, "2024", "100", ""]]))
    with pytest.raises(CommandError):
        call_command("import_economic", str(path), "--as", "e1_staff")
    assert "ECO-ENTERPRISE-UNKNOWN" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("import_economic", str(path), "--as", "verifier_x")
