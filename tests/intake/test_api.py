"""The REST door: JSON batches, Idempotency-Key retries, batch status and reports, outsiders."""

import io
import json

import openpyxl
import pytest

from kiln.accounts.models import Membership
from kiln.accounts.services import create_token
from kiln.intake import errors
from kiln.intake.models import ActivityRecord, ImportBatch

URL = "/api/v1/intake/activity"


def rows(enterprise, n=2, **overrides):
    items = ["raw_coal", "diesel", "coke", "lpg"]
    return [
        {
            "credit_code": enterprise.credit_code,
            "period": "2024-03",
            "item": items[i],
            "quantity": 10 + i,
            "unit": "t",
            **overrides,
        }
        for i in range(n)
    ]


def post(client, body, key=None, **headers):
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def test_submit_a_batch(world, client_for):
    client = client_for(world.e1_staff)
    response = post(client, {"rows": rows(world.e1)})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "imported" and body["imported"] == 2 and body["errors"] == []
    assert body["source_format"] == "json" and body["ledger_index"] is not None
    assert ActivityRecord.objects.filter(enterprise=world.e1).count() == 2
    assert ImportBatch.objects.get(pk=body["batch_id"]).door == "api"


def test_chinese_keys_are_accepted_too(world, client_for):
    body = {
        "rows": [
            {
                "credit_code": world.e1.credit_code,
                "period": "2024-03",
                "item": "raw_coal",
                "quantity": "1",
                "unit": "吨",
                "source": "计量",
                "note": "备注",
            }
        ]
    }
    response = post(client_for(world.e1_staff), body)
    assert response.status_code == 201, response.content


def test_rejected_batch_reports_rows_by_position(world, client_for):
    body = {"rows": rows(world.e1, 3)}
    body["rows"][1]["quantity"] = -1
    body["rows"][2]["period"] = "2099-13"
    response = post(client_for(world.e1_staff), body)
    assert response.status_code == 422
    result = response.json()
    assert [(e["row"], e["code"]) for e in result["errors"]] == [
        (2, errors.QUANTITY_NEGATIVE),
        (3, errors.PERIOD_FORMAT),
    ]
    assert result["errors"][0]["message_en"] == "The quantity is negative."
    assert ActivityRecord.objects.count() == 0


def test_huge_quantity_is_an_error_not_infinity(world, client_for):
    row = f'"credit_code": "{world.e1.credit_code}", "period": "2024-03", "item": "raw_coal", "unit": "t"'
    raw = '{"rows": [{' + row + ', "quantity": 1e400}]}'  # not JSON's own numbers: Python reads it as inf
    response = client_for(world.e1_staff).post(URL, data=raw, content_type="application/json")
    assert response.status_code == 422, response.content
    assert [e["code"] for e in response.json()["errors"]] == [errors.QUANTITY_INFINITE]


def test_dry_run(world, client_for):
    response = post(client_for(world.e1_staff), {"rows": rows(world.e1), "dry_run": True})
    assert response.status_code == 200 and response.json()["status"] == "checked"
    assert ActivityRecord.objects.count() == 0


def test_empty_batch(world, client_for):
    response = post(client_for(world.e1_staff), {"rows": []})
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == [errors.BATCH_EMPTY]


def test_retried_request_with_the_same_key_is_not_duplicated(world, client_for):
    client = client_for(world.e1_staff)
    body = {"rows": rows(world.e1)}
    first = post(client, body, key="3f1c2a9e-retry")
    second = post(client, body, key="3f1c2a9e-retry")
    assert first.status_code == second.status_code == 201
    assert second.json()["batch_id"] == first.json()["batch_id"]
    assert second.json()["replayed"] is True and second["Idempotent-Replayed"] == "true"
    assert ActivityRecord.objects.count() == 2 and ImportBatch.objects.count() == 1


def test_without_a_key_a_repeat_is_a_stored_duplicate(world, client_for):
    client = client_for(world.e1_staff)
    assert post(client, {"rows": rows(world.e1)}).status_code == 201
    again = post(client, {"rows": rows(world.e1)})
    assert again.status_code == 422
    assert {e["code"] for e in again.json()["errors"]} == {errors.DUPLICATE_STORED}
    assert ActivityRecord.objects.count() == 2


def test_same_key_different_body_is_a_conflict(world, client_for):
    client = client_for(world.e1_staff)
    assert post(client, {"rows": rows(world.e1)}, key="k").status_code == 201
    response = post(client, {"rows": rows(world.e1, quantity=99)}, key="k")
    assert response.status_code == 409 and response.json()["code"] == errors.IDEMPOTENCY_CONFLICT


def test_bad_key(world, client_for):
    assert post(client_for(world.e1_staff), {"rows": rows(world.e1)}, key="x" * 101).status_code == 400


def test_correction_through_the_api(world, client_for):
    client = client_for(world.e1_staff)
    assert post(client, {"rows": rows(world.e1, 1)}).status_code == 201
    response = post(
        client, {"rows": rows(world.e1, 1, quantity=11), "correction_reason": "invoice corrected"}
    )
    assert response.status_code == 201 and response.json()["corrected"] == 1
    assert list(ActivityRecord.objects.order_by("version").values_list("version", "current")) == [
        (1, False),
        (2, True),
    ]


def test_api_token(world, client):
    membership = Membership.objects.get(user=world.e1_staff)
    _, secret = create_token(actor=world.e1_staff, membership=membership, name="erp", scopes=["write"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = post(client, {"rows": rows(world.e1)}, key="erp-2024-03", **auth)
    assert response.status_code == 201, response.content
    batch_id = response.json()["batch_id"]
    assert client.get(f"/api/v1/intake/batches/{batch_id}", **auth).status_code == 200
    _, read_only = create_token(actor=world.e1_staff, membership=membership, name="ro", scopes=["read"])
    assert post(client, {"rows": rows(world.e1)}, HTTP_AUTHORIZATION=f"Bearer {read_only}").status_code == 403


def test_batch_status_and_report(world, client_for):
    client = client_for(world.e1_staff)
    body = {"rows": rows(world.e1)}
    body["rows"][0]["note"] = '=HYPERLINK("http://evil")'
    batch_id = post(client, body).json()["batch_id"]
    status = client.get(f"/api/v1/intake/batches/{batch_id}")
    assert status.status_code == 200 and status.json()["status"] == "rejected"
    assert status.json()["error_counts"] == {errors.CELL_FORMULA: 1}
    report = client.get(f"/api/v1/intake/batches/{batch_id}/report")
    assert report.json()["errors"][0]["code"] == errors.CELL_FORMULA
    as_csv = client.get(f"/api/v1/intake/batches/{batch_id}/report?format=csv")
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    assert b"'=HYPERLINK" in as_csv.content
    as_xlsx = client.get(f"/api/v1/intake/batches/{batch_id}/report?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).worksheets[0]
    assert sheet.cell(2, 3).value == '\'=HYPERLINK("http://evil")'
    assert client.get(f"/api/v1/intake/batches/{batch_id}/report?format=pdf").status_code == 400
    listed = client.get("/api/v1/intake/batches").json()
    assert [b["batch_id"] for b in listed["items"]] == [batch_id]


# --- outsiders ----------------------------------------------------------------------------------------


@pytest.fixture
def e1_batch(world, client_for):
    return post(client_for(world.e1_staff), {"rows": rows(world.e1)}).json()["batch_id"]


@pytest.mark.parametrize("persona", ["e2_staff", "gov_a", "gov_b", "verifier_e1", "verifier_unassigned"])
@pytest.mark.parametrize("suffix", ["", "/report", "/report?format=csv", "/report?format=xlsx"])
def test_other_organisations_get_404_for_a_batch(world, client, e1_batch, persona, suffix):
    client.force_login(getattr(world, persona))
    assert client.get(f"/api/v1/intake/batches/{e1_batch}{suffix}").status_code == 404


@pytest.mark.parametrize("persona", ["e2_staff", "gov_a", "verifier_e1"])
def test_other_organisations_do_not_see_the_batch_listed(world, client, e1_batch, persona):
    client.force_login(getattr(world, persona))
    assert client.get("/api/v1/intake/batches").json()["items"] == []


def test_platform_admin_sees_every_batch(world, client, e1_batch):
    client.force_login(world.admin)
    assert client.get(f"/api/v1/intake/batches/{e1_batch}").status_code == 200


@pytest.mark.parametrize("persona", ["gov_a", "verifier_e1"])
def test_roles_that_may_not_submit_get_403(world, client_for, persona):
    response = post(client_for(getattr(world, persona)), {"rows": rows(world.e1)})
    assert response.status_code == 403
    assert ActivityRecord.objects.count() == 0


def test_enterprise_cannot_submit_for_another(world, client_for):
    response = post(client_for(world.e2_staff), {"rows": rows(world.e1)})
    assert response.status_code == 422
    assert {e["code"] for e in response.json()["errors"]} == {errors.ENTERPRISE_OUT_OF_SCOPE}


@pytest.mark.parametrize(
    "path", [URL, "/api/v1/intake/batches", "/api/v1/intake/batches/1", "/api/v1/intake/batches/1/report"]
)
def test_anonymous_gets_401(db, client, path):
    response = (
        client.post(path, data="{}", content_type="application/json") if path == URL else client.get(path)
    )
    assert response.status_code == 401
