"""The intake pages: upload, templates, batches, deposits, freezing, overdue list — and outsiders."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kiln.intake import deposits, errors
from kiln.intake.models import ActivityRecord, EnterpriseMonth, EvidenceFile, FreezeChange, ImportBatch
from kiln.registry.models import Enterprise
from tests.intake.files import ZH_HEADERS, csv_bytes, row, xlsx_bytes

PDF = b"%PDF-1.7\n%%EOF\n"


def upload(client, data, name="data.csv", **fields):
    return client.post(reverse("intake:upload"), {"file": SimpleUploadedFile(name, data), **fields})


def test_upload_page(world, client_for):
    client = client_for(world.e1_staff)
    page = client.get(reverse("intake:upload"))
    assert page.status_code == 200
    assert "统一社会信用代码" in page.content.decode() and "raw_coal" in page.content.decode()


def test_upload_success(world, client_for):
    response = upload(client_for(world.e1_staff), xlsx_bytes([row(world.e1)]), "月报.xlsx")
    assert response.status_code == 200
    assert 'data-import-result="imported"' in response.content.decode()
    assert ActivityRecord.objects.count() == 1


def test_upload_dry_run(world, client_for):
    response = upload(client_for(world.e1_staff), csv_bytes([row(world.e1)]), dry_run="on")
    assert 'data-import-result="checked"' in response.content.decode()
    assert ActivityRecord.objects.count() == 0


def test_upload_errors_with_report_links(world, client_for):
    client = client_for(world.e1_staff)
    response = upload(client, csv_bytes([row(world.e1, period="2099-13"), row(world.e2)]))
    html = response.content.decode()
    assert 'data-import-result="errors"' in html
    assert "INT-PERIOD-FORMAT" in html and "INT-ENTERPRISE-OUT-OF-SCOPE" in html
    batch = ImportBatch.objects.get()
    assert reverse("intake:batch-report-xlsx", args=[batch.pk]) in html
    report = client.get(reverse("intake:batch-report-csv", args=[batch.pk]))
    assert report.status_code == 200 and "INT-PERIOD-FORMAT" in report.content.decode("utf-8-sig")


def test_upload_correction(world, client_for):
    client = client_for(world.e1_staff)
    upload(client, csv_bytes([row(world.e1, quantity="1")]))
    upload(client, csv_bytes([row(world.e1, quantity="2")]), correction_reason="typo")
    assert list(ActivityRecord.objects.order_by("version").values_list("quantity", "current")) == [
        (1, False),
        (2, True),
    ]


def test_upload_oversize_is_an_error_not_a_crash(world, client_for, settings):
    settings.KILN_MAX_UPLOAD_BYTES = 64
    response = upload(client_for(world.e1_staff), csv_bytes([row(world.e1)] * 5))
    assert response.status_code == 200 and "INT-FILE-TOO-LARGE" in response.content.decode()


def test_templates(world, client_for):
    client = client_for(world.e1_staff)
    xlsx = client.get(reverse("intake:template-xlsx"))
    assert xlsx.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    data, example, items, _units = workbook.worksheets
    assert [c.value for c in data[1]] == ZH_HEADERS and data.max_row == 1  # only headers where data goes
    assert [c.value for c in example[1]] == ZH_HEADERS
    assert example.cell(2, 1).value == world.e1.credit_code
    codes = {r[0] for r in items.iter_rows(min_row=2, values_only=True)}
    assert {"raw_coal", "natural_gas", "electricity_purchased", "raw_coal.ncv"} <= codes
    # Uploaded as downloaded, a template imports nothing: the examples are not taken for data.
    assert (
        'data-import-result="imported"' not in upload(client, xlsx.content, "template.xlsx").content.decode()
    )
    assert ImportBatch.objects.get().report["counts"] == {errors.FILE_HEADERS_ONLY: 1}
    # The examples themselves are valid rows, so copying them onto the first sheet imports them.
    rows = [[c.value for c in r] for r in example.iter_rows(min_row=2)]
    examples = upload(client, csv_bytes(rows, headers=ZH_HEADERS), "examples.csv").content.decode()
    assert 'data-import-result="imported"' in examples
    csv = client.get(reverse("intake:template-csv"))
    assert csv.content == b"\xef\xbb\xbf" + (",".join(ZH_HEADERS) + "\r\n").encode()


def test_batch_pages(world, client_for):
    client = client_for(world.e1_staff)
    upload(client, csv_bytes([row(world.e1)]))
    batch = ImportBatch.objects.get()
    assert str(batch.pk) in client.get(reverse("intake:batch-list")).content.decode()
    detail = client.get(reverse("intake:batch-detail", args=[batch.pk]))
    assert detail.status_code == 200 and batch.file_sha256 in detail.content.decode()


# --- deposits -------------------------------------------------------------------------------------------


def month_url(enterprise, period="2024-03"):
    return reverse("intake:deposit-month", args=[enterprise.credit_code, period])


def test_deposit_overview_and_upload(world, client_for):
    client = client_for(world.e1_staff)
    overview = client.get(reverse("intake:deposits"))
    assert overview.status_code == 200 and "data-status=" in overview.content.decode()
    response = client.post(
        month_url(world.e1), {"kind": "invoice", "file": SimpleUploadedFile("发票.pdf", PDF)}
    )
    assert response.status_code == 302
    page = client.get(month_url(world.e1)).content.decode()
    assert "发票.pdf" in page and 'data-status="late"' in page  # March 2024 is long past its deadline
    evidence = EvidenceFile.objects.get()
    download = client.get(reverse("intake:evidence-download", args=[evidence.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_deposit_refusal_is_shown(world, client_for):
    response = client_for(world.e1_staff).post(
        month_url(world.e1), {"kind": "invoice", "file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00")}
    )
    assert response.status_code == 200 and "INT-EVIDENCE-TYPE" in response.content.decode()
    assert not EvidenceFile.objects.exists()


def test_government_sees_the_month_and_freezes_it(world, client_for):
    client = client_for(world.gov_a)
    page = client.get(month_url(world.e1))
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    assert 'name="kind"' not in page.content.decode()  # a government user does not deposit
    client.post(
        reverse("intake:freeze", args=[world.e1.credit_code, "2024-03"]),
        {"action": "freeze", "reason": "on-site check"},
    )
    month = EnterpriseMonth.objects.get(enterprise=world.e1, period="2024-03")
    assert month.frozen and month.frozen_by == world.gov_a
    assert "on-site check" in client.get(month_url(world.e1)).content.decode()


@pytest.mark.parametrize("action", ["freeze", "unfreeze"])
def test_a_change_to_the_state_it_already_has_records_nothing(world, client_for, action):
    client = client_for(world.gov_a)
    url = reverse("intake:freeze", args=[world.e1.credit_code, "2024-03"])
    if action == "freeze":
        client.post(url, {"action": "freeze", "reason": "first"})
    response = client.post(url, {"action": action, "reason": "stale tab"}, follow=True)
    assert "nothing changed" in response.content.decode() or "未作任何更改" in response.content.decode()
    assert FreezeChange.objects.count() == (1 if action == "freeze" else 0)


def test_government_overdue_list(world, client_for):
    Enterprise.objects.filter(pk__in=[world.e1.pk, world.e2.pk]).update(key_emitter=True)
    page = client_for(world.gov_a).get(reverse("intake:overdue"))
    html = page.content.decode()
    assert page.status_code == 200
    assert world.e1.credit_code in html and world.e2.credit_code not in html  # E2 is in region B
    assert world.e2.credit_code in client_for(world.gov_b).get(reverse("intake:overdue")).content.decode()


def test_overdue_list_by_enterprise_and_by_month(world, client_for):
    Enterprise.objects.filter(pk=world.e1.pk).update(key_emitter=True)
    client = client_for(world.gov_a)
    grouped = client.get(reverse("intake:overdue"), {"from": "2024-01"}).content.decode()
    months = grouped.count(f"/intake/deposits/{world.e1.credit_code}/")
    assert months > 1 and grouped.count(world.e1.credit_code) == months + 1  # one row, a link per month
    flat = client.get(reverse("intake:overdue"), {"from": "2024-01", "by": "month"}).content.decode()
    assert flat.count(f"/intake/deposits/{world.e1.credit_code}/") == months


def test_deposit_overview_pages_back_and_shows_reported_rows(world, client_for):
    client = client_for(world.e1_staff)
    upload(client, csv_bytes([row(world.e1), row(world.e1, item="diesel")]))
    page = client.get(reverse("intake:deposits"), {"until": "2024-06"}).content.decode()
    assert ">2024-06<" in page and ">2023-07<" in page and ">2023-06<" not in page
    assert "?until=2023-06" in page and "?until=" in page.split("?until=2023-06")[1]  # earlier and later
    assert '<td class="num">2</td>' in page  # March 2024: two reported rows
    assert client.get(reverse("intake:deposits"), {"until": "junk"}).status_code == 200


def test_deposit_month_shows_the_reported_rows(world, client_for):
    client = client_for(world.e1_staff)
    upload(client, csv_bytes([row(world.e1, quantity="1234.5")]))
    batch = ImportBatch.objects.get()
    page = client.get(month_url(world.e1)).content.decode()
    assert "raw_coal" in page and "1234.5" in page
    assert reverse("intake:batch-detail", args=[batch.pk]) in page  # the enterprise's own batch is linked
    government = client_for(world.gov_a).get(month_url(world.e1)).content.decode()
    assert "1234.5" in government and reverse("intake:batch-detail", args=[batch.pk]) not in government


def test_index_redirects_by_role(world, client_for):
    assert client_for(world.e1_staff).get(reverse("intake:index"))["Location"] == reverse("intake:upload")
    assert client_for(world.gov_a).get(reverse("intake:index"))["Location"] == reverse("intake:overdue")


# --- outsiders ------------------------------------------------------------------------------------------


@pytest.fixture
def e1_things(world):
    from kiln.intake.services import import_activity
    from tests.intake.conftest import membership_of

    result = import_activity(
        csv_bytes([row(world.e1)]),
        actor=world.e1_staff,
        membership=membership_of(world.e1_staff),
        door="upload",
        file_name="a.csv",
    )
    evidence = deposits.deposit(
        enterprise=world.e1,
        period="2024-03",
        kind="invoice",
        upload=SimpleUploadedFile("a.pdf", PDF),
        actor=world.e1_staff,
    )
    return {"batch": result.batch_id, "evidence": evidence.pk}


OTHER_ORGANISATIONS = ["e2_staff", "gov_b", "verifier_e1", "verifier_unassigned"]


@pytest.mark.parametrize("persona", OTHER_ORGANISATIONS)
@pytest.mark.parametrize("name", ["batch-detail", "batch-report-csv", "batch-report-xlsx"])
def test_outsiders_get_404_for_batches(world, client, e1_things, persona, name):
    client.force_login(getattr(world, persona))
    assert client.get(reverse(f"intake:{name}", args=[e1_things["batch"]])).status_code == 404


@pytest.mark.parametrize("persona", OTHER_ORGANISATIONS)
def test_outsiders_get_404_for_e1_months_and_evidence(world, client, e1_things, persona):
    client.force_login(getattr(world, persona))
    assert client.get(month_url(world.e1)).status_code == 404
    assert (
        client.post(
            month_url(world.e1), {"kind": "invoice", "file": SimpleUploadedFile("b.pdf", PDF)}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("intake:freeze", args=[world.e1.credit_code, "2024-03"]),
            {"action": "freeze", "reason": "x"},
        ).status_code
        == 404
    )
    assert client.get(reverse("intake:evidence-download", args=[e1_things["evidence"]])).status_code == 404
    assert EvidenceFile.objects.count() == 1 and not EnterpriseMonth.objects.filter(frozen=True).exists()


@pytest.mark.parametrize("persona", ["gov_a", "gov_b", "verifier_e1", "verifier_unassigned"])
@pytest.mark.parametrize("name", ["upload", "template-xlsx", "template-csv"])
def test_non_submitters_get_404_for_upload_pages(world, client, persona, name):
    client.force_login(getattr(world, persona))
    assert client.get(reverse(f"intake:{name}")).status_code == 404


@pytest.mark.parametrize("persona", ["e1_staff", "verifier_e1"])
def test_overdue_list_is_for_government_only(world, client, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("intake:overdue")).status_code == 404


def test_enterprise_staff_cannot_freeze_their_own_month(world, client_for):
    client = client_for(world.e1_staff)
    response = client.post(
        reverse("intake:freeze", args=[world.e1.credit_code, "2024-03"]),
        {"action": "unfreeze", "reason": "x"},
    )
    assert response.status_code == 404


def test_verifiers_get_404_for_deposit_overview(world, client_for):
    assert client_for(world.verifier_e1).get(reverse("intake:deposits")).status_code == 404


@pytest.mark.parametrize("name", ["index", "upload", "batch-list", "deposits", "overdue", "template-csv"])
def test_anonymous_is_sent_to_login(db, client, name):
    response = client.get(reverse(f"intake:{name}"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_empty_upload_gets_the_pipeline_code(world, client_for):
    response = upload(client_for(world.e1_staff), b"", "empty.csv")
    assert response.status_code == 200 and errors.FILE_EMPTY in response.content.decode()
    assert ImportBatch.objects.get().report["counts"] == {errors.FILE_EMPTY: 1}
