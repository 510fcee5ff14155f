"""Metered electricity: import (CSV, XLSX, API), validation codes, versions, monthly sums, scope, pages."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from kiln.accounts.models import Membership
from kiln.accounts.roles import Role
from kiln.grid import errors, services
from kiln.grid.models import MeterBatch, MeterReading
from kiln.registry.models import Organisation
from tests.accounts.helpers import signed_in
from tests.personas import user_with

TODAY = datetime.date(2026, 1, 15)


@pytest.fixture
def grid(world):
    company = Organisation.objects.create(kind="grid", name="青溪供电公司", region=world.city_a)
    world.grid_user = user_with("grid_a", company, Role.GRID_MAINTAINER)
    world.grid_membership = Membership.objects.get(user=world.grid_user)
    return world


def daily_csv(
    code: str,
    month: str = "2025-02",
    days: int = 28,
    kwh: float = 1000.0,
    encoding="utf-8",
    headers=("credit_code", "date", "kwh"),
) -> bytes:
    lines = [",".join(headers)] + [f"{code},{month}-{d:02d},{kwh}" for d in range(1, days + 1)]
    return ("\n".join(lines) + "\n").encode(encoding)


def feed(world, data, **kwargs):
    kwargs.setdefault("today", TODAY)
    return services.import_readings(
        data, actor=world.grid_user, membership=world.grid_membership, door="upload", **kwargs
    )


def test_daily_csv_import_and_monthly_sum(grid):
    result = feed(grid, daily_csv(grid.e1.credit_code), file_name="feb.csv")
    assert result.ok and result.created == 28 and result.status == "imported"
    month = services.monthly_frame(None, "2025-01", "2025-12").row(0, named=True)
    assert month == {
        "credit_code": grid.e1.credit_code,
        "period": "2025-02",
        "kwh": 28_000.0,
        "complete": True,
        "days": 28,
    }
    batch = MeterBatch.objects.get(pk=result.batch_id)
    assert batch.organisation.kind == "grid" and batch.file_sha256


def test_chinese_headers_in_gbk_and_monthly_readings(grid):
    text = "统一社会信用代码,月份,用电量（千瓦时）\n" + f"{grid.e1.credit_code},2025-03,123456\n"
    result = feed(grid, text.encode("gb18030"), file_name="march.csv")
    assert result.ok, result.report
    reading = MeterReading.objects.get()
    assert (reading.date, reading.period, reading.kwh) == (None, "2025-03", 123456.0)


def test_xlsx_import(grid):
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["credit_code", "date", "kwh"])
    sheet.write_row(1, 0, [grid.e1.credit_code, "2025-04-01", 500])
    sheet.write_datetime(2, 1, datetime.datetime(2025, 4, 2), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write(2, 0, grid.e1.credit_code)
    sheet.write(2, 2, 600)
    book.close()
    result = feed(grid, buffer.getvalue(), file_name="april.xlsx")
    assert result.ok, result.report
    assert sorted(MeterReading.objects.values_list("date", "kwh")) == [
        (datetime.date(2025, 4, 1), 500.0),
        (datetime.date(2025, 4, 2), 600.0),
    ]


def test_every_problem_is_reported_and_nothing_stored(grid):
    code = grid.e1.credit_code
    text = "\n".join(
        [
            "credit_code,date,period,kwh",
            f"{grid.e2.credit_code},2025-02-01,,10",  # E2 is in city B: outside the grid company's region
            f"{code},2025-02-30,,10",
            f"{code},2030-01-01,,10",
            f"{code},,2025-13,10",
            f"{code},2025-02-02,2025-02,10",
            f"{code},2025-02-03,,-5",
            f"{code},2025-02-04,,lots",
            f"{code},2025-02-05,,1",
            f"{code},2025-02-05,,2",
        ]
    ).encode()
    result = feed(grid, text, file_name="bad.csv")
    assert not result.ok and result.status == "rejected"
    codes = [(e["row"], e["code"]) for e in result.report["errors"]]
    assert codes == [
        (2, errors.ENTERPRISE_UNKNOWN),
        (3, errors.DATE_INVALID),
        (4, errors.DATE_FUTURE),
        (5, errors.PERIOD_INVALID),
        (6, errors.DATE_OR_PERIOD),
        (7, errors.KWH_NEGATIVE),
        (8, errors.KWH_INVALID),
        (10, errors.DUPLICATE),
    ]
    assert MeterReading.objects.count() == 0
    assert all(e["message"] for e in result.as_dict()["errors"])


def test_missing_headers_and_unreadable_files(grid):
    result = feed(grid, b"credit_code,kwh\nX,1\n", file_name="x.csv")
    assert result.report["errors"][0]["code"] == errors.HEADER_MISSING
    result = feed(grid, b"\x00\x01\x02 not a table", file_name="x.csv")
    assert result.report["errors"][0]["code"] == errors.FILE_UNREADABLE


def test_a_resent_reading_replaces_the_current_one_as_a_new_version(grid):
    feed(grid, daily_csv(grid.e1.credit_code, days=2, kwh=100.0))
    result = feed(grid, daily_csv(grid.e1.credit_code, days=3, kwh=150.0))
    assert (result.created, result.replaced) == (1, 2)
    assert MeterReading.objects.filter(current=True).count() == 3
    old = MeterReading.objects.filter(current=False)
    assert old.count() == 2 and set(old.values_list("superseded_by", flat=True)) == {result.batch_id}
    assert set(MeterReading.objects.filter(current=True).values_list("version", flat=True)) == {1, 2}


def test_bulk_writes_not_one_query_per_row(grid, django_assert_max_num_queries):
    data = b"credit_code,date,kwh\n" + b"".join(
        f"{grid.e1.credit_code},{(datetime.date(2023, 1, 1) + datetime.timedelta(days=i)).isoformat()},{i}\n".encode()
        for i in range(1000)
    )
    with django_assert_max_num_queries(40):
        result = feed(grid, data)
    assert result.created == 1000


def test_only_the_grid_company_feeds(world):
    with pytest.raises(PermissionDenied):
        services.import_readings(
            daily_csv(world.e1.credit_code),
            actor=world.e1_staff,
            membership=Membership.objects.get(user=world.e1_staff),
            door="upload",
        )
    with pytest.raises(PermissionDenied):  # no membership is only for the platform's own doors
        services.import_readings(daily_csv(world.e1.credit_code), actor=None, membership=None, door="upload")


def test_demo_loader(world, tmp_path):
    path = tmp_path / "metered_electricity.csv"
    path.write_bytes(daily_csv(world.e1.credit_code, days=31, month="2025-01"))
    result = services.load_demo_metered(path)
    assert result.ok and result.created == 31
    assert services.load_demo_metered(tmp_path / "missing.csv") is None


# --- API and pages ------------------------------------------------------------------------------------------


def test_api_feed_and_read(grid, client):
    signed_in(client, grid.grid_user)
    body = {"rows": [{"credit_code": grid.e1.credit_code, "period": "2025-05", "kwh": 42_000}]}
    response = client.post("/api/v1/grid/readings", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 1
    bad = client.post(
        "/api/v1/grid/readings",
        json.dumps({"rows": [{"credit_code": "X", "period": "2025-05", "kwh": 1}]}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == errors.ENTERPRISE_UNKNOWN
    monthly = client.get(f"/api/v1/grid/enterprises/{grid.e1.credit_code}/monthly")
    assert monthly.json() == [{"period": "2025-05", "kwh": 42000.0, "complete": True, "days": 0}]
    assert client.get(f"/api/v1/grid/batches/{response.json()['batch_id']}").status_code == 200


def test_api_refuses_non_feeders_and_hides_other_regions(grid, client):
    signed_in(client, grid.e1_staff)
    body = {"rows": [{"credit_code": grid.e1.credit_code, "period": "2025-05", "kwh": 1}]}
    assert (
        client.post("/api/v1/grid/readings", json.dumps(body), content_type="application/json").status_code
        == 404
    )
    signed_in(client, grid.gov_b)
    assert client.get(f"/api/v1/grid/enterprises/{grid.e1.credit_code}/monthly").status_code == 404


def test_pages(grid, client):
    signed_in(client, grid.grid_user)
    assert client.get(reverse("grid:index")).status_code == 200
    upload = io.BytesIO(daily_csv(grid.e1.credit_code))
    upload.name = "feb.csv"
    response = client.post(reverse("grid:index"), {"file": upload})
    batch = MeterBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "grid:batch-detail", args=[batch.pk]
    )
    assert client.get(reverse("grid:batch-detail", args=[batch.pk])).status_code == 200
    assert client.get(reverse("grid:enterprise", args=[grid.e1.credit_code])).status_code == 200
    signed_in(client, grid.e1_staff)
    assert client.get(reverse("grid:index")).status_code == 404
    assert client.get(reverse("grid:batch-detail", args=[batch.pk])).status_code == 404
    assert client.get(reverse("grid:enterprise", args=[grid.e1.credit_code])).status_code == 200
    signed_in(client, grid.e2_staff)
    assert client.get(reverse("grid:enterprise", args=[grid.e1.credit_code])).status_code == 404
