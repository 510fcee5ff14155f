"""``kiln import activity FILE``: exit codes, --dry-run, --json, --as."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kiln.intake import errors
from kiln.intake.models import ActivityRecord, ImportBatch
from tests.intake.files import csv_bytes, row, xlsx_bytes


def run(*args):
    out = StringIO()
    call_command("import", "activity", *args, stdout=out)
    return out.getvalue()


def test_imports_a_valid_file(world, tmp_path):
    path = tmp_path / "march.xlsx"
    path.write_bytes(xlsx_bytes([row(world.e1), row(world.e2)]))
    output = run(str(path))
    assert "imported 2 rows (xlsx)" in output
    batch = ImportBatch.objects.get()
    assert (batch.door, batch.submitted_by, batch.file_name) == ("cli", None, "march.xlsx")
    assert ActivityRecord.objects.count() == 2


def test_dry_run_and_json(world, tmp_path):
    path = tmp_path / "march.csv"
    path.write_bytes(csv_bytes([row(world.e1)]))
    result = json.loads(run(str(path), "--dry-run", "--json"))
    assert result["status"] == "checked" and result["ok"] is True
    assert ActivityRecord.objects.count() == 0


def test_rejected_file_exits_non_zero_with_the_report(world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        csv_bytes([row(world.e1, period="2099-13"), row(world.e1, quantity="1e400", item="diesel")])
    )
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import", "activity", str(path), "--json", stdout=out)
    assert caught.value.returncode == 1
    report = json.loads(out.getvalue())
    assert [e["code"] for e in report["errors"]] == [errors.PERIOD_FORMAT, errors.QUANTITY_INFINITE]
    assert ActivityRecord.objects.count() == 0


def test_acting_as_a_user_applies_their_scope(world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes([row(world.e2)]))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import", "activity", str(path), "--as", "e1_staff", "--json", stdout=out)
    assert json.loads(out.getvalue())["error_counts"] == {errors.ENTERPRISE_OUT_OF_SCOPE: 1}
    run(str(path), "--as", "e2_staff")
    assert ImportBatch.objects.filter(status="imported").get().submitted_by == world.e2_staff


def test_as_a_user_who_may_not_submit(world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes([row(world.e1)]))
    with pytest.raises(CommandError, match="may submit"):
        run(str(path), "--as", "gov_a")
    with pytest.raises(CommandError, match="no active user"):
        run(str(path), "--as", "nobody")


def test_correction_with_reason(world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes([row(world.e1, quantity="1")]))
    run(str(path))
    path.write_bytes(csv_bytes([row(world.e1, quantity="2")]))
    run(str(path), "--reason", "meter replaced")
    assert ActivityRecord.objects.get(current=True).reason == "meter replaced"


def test_missing_file(db):
    with pytest.raises(CommandError, match="no such file"):
        run("/nonexistent.csv")


@pytest.mark.slow
def test_console_script_exit_codes(world, tmp_path):
    """The real ``kiln`` entry point, with a hyphen-free command name that is a Python keyword."""
    kiln = Path(sys.executable).parent / "kiln"
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    env = {"KILN_VAR_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    subprocess.run([str(kiln), "migrate", "--noinput"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [str(kiln), "import", "activity", str(path), "--json"], env=env, capture_output=True
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["errors"][0]["code"] == errors.FILE_EMPTY
