"""Row-level validation: every error code, scope, and a hundred thousand duplicates."""

import time

import polars as pl
import pytest
import time_machine

from kiln.intake import errors
from kiln.intake.models import ActivityRecord, ImportBatch
from kiln.intake.services import freeze_month, import_activity
from tests.intake.files import codes, csv_bytes, row


def only(result):
    assert not result.ok, "expected a rejection"
    assert result.report["error_count"] == 1, result.report["errors"]
    return result.report["errors"][0]


@pytest.mark.parametrize(
    ("overrides", "code", "column", "detail"),
    [
        ({"enterprise": "91339902MA0000001X"}, errors.CREDIT_CHECKSUM, "credit_code", ""),
        ({"enterprise": "91339902MA000000"}, errors.CREDIT_LENGTH, "credit_code", "16"),
        ({"enterprise": "91339902MA000000I5"}, errors.CREDIT_CHARSET, "credit_code", ""),
        ({"enterprise": "913399A2MA00000015"}, errors.CREDIT_REGION, "credit_code", ""),
        ({"enterprise": ""}, errors.VALUE_REQUIRED, "credit_code", ""),
        ({"period": "2024-3"}, errors.PERIOD_FORMAT, "period", ""),
        ({"period": "2099-13"}, errors.PERIOD_FORMAT, "period", ""),
        ({"period": "2024-00"}, errors.PERIOD_FORMAT, "period", ""),
        ({"period": "2099-12"}, errors.PERIOD_FUTURE, "period", ""),
        ({"period": ""}, errors.VALUE_REQUIRED, "period", ""),
        ({"item": "unobtainium"}, errors.ITEM_UNKNOWN, "item", ""),
        ({"item": "raw_coal.colour"}, errors.ITEM_UNKNOWN, "item", ""),
        ({"quantity": "abc"}, errors.QUANTITY_NOT_NUMBER, "quantity", ""),
        ({"quantity": "=SUM(D2:D9)"}, errors.CELL_FORMULA, "quantity", ""),
        ({"quantity": "NaN"}, errors.QUANTITY_NOT_NUMBER, "quantity", ""),
        ({"quantity": "1e400"}, errors.QUANTITY_INFINITE, "quantity", ""),
        ({"quantity": "-inf"}, errors.QUANTITY_INFINITE, "quantity", ""),
        ({"quantity": "-5"}, errors.QUANTITY_NEGATIVE, "quantity", ""),
        ({"quantity": ""}, errors.VALUE_REQUIRED, "quantity", ""),
        ({"unit": "furlong"}, errors.UNIT_UNKNOWN, "unit", "t"),
        ({"unit": "MWh"}, errors.UNIT_INCOMPATIBLE, "unit", "t"),
        ({"unit": ""}, errors.VALUE_REQUIRED, "unit", ""),
        ({"source": "rumour"}, errors.SOURCE_UNKNOWN, "source", ""),
        ({"facility": "x" * 81}, errors.TEXT_TOO_LONG, "facility", "80"),
        ({"note": "=cmd|' /C calc'!A0"}, errors.CELL_FORMULA, "note", ""),
    ],
)
def test_each_cell_error(world, submit, overrides, code, column, detail):
    with time_machine.travel("2025-06-15 12:00 +0800"):
        error = only(submit(csv_bytes([row(**{"enterprise": world.e1, **overrides})])))
    assert (error["code"], error["column"], error["row"], error["detail"]) == (code, column, 2, detail)
    assert ActivityRecord.objects.count() == 0


def test_values_are_normalised(world, submit):
    rows = [
        row(world.e1.credit_code.lower(), item="RAW_COAL", quantity="1,234.5", unit="万吨", source="发票"),
        row(
            "　" + world.e1.credit_code.replace("9", "９") + " ",
            item="natural_gas",
            quantity="３",
            unit="万m³",
        ),
        row(world.e1, item="raw_coal.ncv", quantity="20.9", unit="MJ/kg", source="化验"),
        row(world.e1, item="clinker_output.cao", quantity="0.65", unit=""),
    ]
    result = submit(csv_bytes(rows))
    assert result.ok, result.report
    stored = {r.item: r for r in ActivityRecord.objects.all()}
    assert stored["raw_coal"].quantity == 1234.5 and stored["raw_coal"].canonical_quantity == 12_345_000
    assert stored["raw_coal"].source == "invoice" and stored["raw_coal"].unit == "万吨"
    assert stored["natural_gas"].canonical_quantity == 3
    assert (
        stored["raw_coal.ncv"].canonical_quantity == pytest.approx(20.9)
        and stored["raw_coal.ncv"].source == "lab"
    )
    assert stored["clinker_output.cao"].canonical_quantity == 0.65


def test_period_of_this_month_is_accepted_next_month_is_future(world, submit):
    with time_machine.travel("2025-06-30 23:00 +0800"):
        assert submit(csv_bytes([row(world.e1, period="2025-06")])).ok
        assert codes(submit(csv_bytes([row(world.e1, period="2025-07")]))) == [errors.PERIOD_FUTURE]


def test_every_error_of_a_row_is_reported(world, submit):
    result = submit(
        csv_bytes([row("91339902MA0000001X", period="2099-13", item="x", quantity="1e400", unit="?")])
    )
    assert sorted(codes(result)) == sorted(
        [errors.CREDIT_CHECKSUM, errors.PERIOD_FORMAT, errors.ITEM_UNKNOWN, errors.QUANTITY_INFINITE]
    )


def test_row_numbers_are_what_the_user_sees(world, submit):
    result = submit(
        csv_bytes([row(world.e1), row(world.e1, item="diesel", quantity="x"), row(world.e1, item="coke")])
    )
    assert [(e["row"], e["code"]) for e in result.report["errors"]] == [(3, errors.QUANTITY_NOT_NUMBER)]


# --- scope ------------------------------------------------------------------------------------------


def test_enterprise_user_cannot_import_for_another_enterprise(world, submit):
    error = only(submit(csv_bytes([row(world.e2)])))
    assert error["code"] == errors.ENTERPRISE_OUT_OF_SCOPE


def test_out_of_scope_does_not_reveal_whether_the_enterprise_exists(world, submit):
    from kiln.registry import credit_code

    unregistered = credit_code.make("9", "1", "339902", "MA9999999")
    assert only(submit(csv_bytes([row(unregistered)])))["code"] == errors.ENTERPRISE_OUT_OF_SCOPE
    assert only(submit(csv_bytes([row(world.e2)])))["code"] == errors.ENTERPRISE_OUT_OF_SCOPE


def test_platform_admin_sees_unknown(world, submit):
    from kiln.registry import credit_code

    unregistered = credit_code.make("9", "1", "339902", "MA9999999")
    assert only(submit(csv_bytes([row(unregistered)]), user=world.admin))["code"] == errors.ENTERPRISE_UNKNOWN
    assert submit(csv_bytes([row(world.e1), row(world.e2)]), user=world.admin).ok


def test_government_users_may_not_submit(world, submit):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        submit(csv_bytes([row(world.e1)]), user=world.gov_a)


def test_system_door_without_membership(world):
    result = import_activity(
        csv_bytes([row(world.e1), row(world.e2)]), actor=None, membership=None, door="cli", file_name="x.csv"
    )
    assert result.ok
    with pytest.raises(Exception, match="membership"):
        import_activity(
            csv_bytes([row(world.e1)]), actor=None, membership=None, door="upload", file_name="x.csv"
        )


# --- duplicates and stored data -----------------------------------------------------------------------


def test_duplicates_within_the_batch(world, submit):
    rows = [row(world.e1), row(world.e1, facility="2号窑"), row(world.e1), row(world.e1, quantity="7")]
    result = submit(csv_bytes(rows))
    dupes = [
        (e["row"], e["detail"]) for e in result.report["errors"] if e["code"] == errors.DUPLICATE_IN_BATCH
    ]
    assert dupes == [(4, "2"), (5, "2")]


def test_duplicates_against_stored_data(world, submit):
    assert submit(csv_bytes([row(world.e1)])).ok
    error = only(submit(csv_bytes([row(world.e1, quantity="99")])))
    assert error["code"] == errors.DUPLICATE_STORED
    assert submit(csv_bytes([row(world.e1, facility="2号窑")])).ok  # another facility is another key


def test_frozen_month_is_refused(world, submit):
    freeze_month(world.e1, "2024-03", actor=world.gov_a, reason="under review")
    error = only(submit(csv_bytes([row(world.e1, period="2024-03")])))
    assert (error["code"], error["detail"]) == (errors.MONTH_FROZEN, "under review")
    assert submit(csv_bytes([row(world.e1, period="2024-04")])).ok


@pytest.mark.slow
def test_a_hundred_thousand_duplicate_rows(world, submit):
    """The same row 100,000 times: fast, and a report of bounded size with the full count."""
    data = csv_bytes([row(world.e1)] * 100_000)
    started = time.perf_counter()
    result = submit(data)
    elapsed = time.perf_counter() - started
    assert result.report["counts"] == {errors.DUPLICATE_IN_BATCH: 99_999}
    assert len(result.report["errors"]) == 1000 and result.report["truncated"]
    assert result.report["errors"][0]["row"] == 3 and result.report["errors"][0]["detail"] == "2"
    assert ActivityRecord.objects.count() == 0
    assert elapsed < 10, elapsed
    batch = ImportBatch.objects.get(pk=result.batch_id)
    assert len(batch.report["errors"]) == 1000


def test_frame_input(world, submit):
    frame = pl.DataFrame(
        {
            "统一社会信用代码": [world.e1.credit_code],
            "月份": ["2024-01"],
            "项目代码": ["diesel"],
            "数量": ["3.5"],
            "单位": ["t"],
        }
    )
    result = submit(frame)
    assert result.ok, result.report
    assert result.source_format == "frame"
