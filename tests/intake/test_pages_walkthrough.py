"""What a first-time user trips over on the intake pages: plain file-level errors, file names,
links between the pages, readable data sources and item names, freeze messages, correction reasons.

Pages are requested in English (``Accept-Language: en``) so the assertions do not depend on the
Chinese catalogue being compiled.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kiln.intake.models import EnterpriseMonth, ImportBatch
from tests.intake.files import csv_bytes, row

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(client, data, name="data.csv", **fields):
    return client.post(reverse("intake:upload"), {"file": SimpleUploadedFile(name, data), **fields}, **EN)


def month_url(enterprise, period="2024-03"):
    return reverse("intake:deposit-month", args=[enterprise.credit_code, period])


# --- the upload page ------------------------------------------------------------------------------------


def test_a_whole_file_error_is_stated_plainly(world, client_for):
    """A file with only headers: one sentence, no table of empty row/column/value cells, no report to download."""
    html = upload(client_for(world.e1_staff), csv_bytes([]), "只有表头.csv").content.decode()
    assert 'data-errors="whole-file"' in html
    assert "The file has a header row but no data rows." in html and "INT-FILE-HEADERS-ONLY" in html
    assert "Errors by row" not in html and "report.xlsx" not in html
    assert "只有表头.csv" in html  # which file was refused


def test_a_file_that_is_not_what_its_name_says_is_stated_plainly(world, client_for):
    html = upload(client_for(world.e1_staff), PNG, "activity.csv").content.decode()
    assert 'data-errors="whole-file"' in html and "INT-FILE-TYPE-MISMATCH" in html
    assert "The rows of the file were not checked." in html


def test_row_errors_keep_the_table_and_the_reports(world, client_for):
    html = upload(
        client_for(world.e1_staff), csv_bytes([row(world.e1, period="2099-13")]), "bad.csv"
    ).content.decode()
    assert 'data-errors="whole-file"' not in html and "Errors by row" in html
    batch = ImportBatch.objects.get()
    assert reverse("intake:batch-report-xlsx", args=[batch.pk]) in html
    assert reverse("intake:batch-report-csv", args=[batch.pk]) in html
    assert "bad.csv" in html and "the header is row 1" in html


def test_an_import_links_to_the_months(world, client_for):
    html = upload(client_for(world.e1_staff), csv_bytes([row(world.e1)]), "march.csv").content.decode()
    assert 'data-import-result="imported"' in html and "march.csv" in html
    assert f'href="{reverse("intake:deposits")}" data-link="months"' in html


# --- batches -----------------------------------------------------------------------------------------------


def test_batch_list_names_the_file_and_marks_dry_runs(world, client_for):
    client = client_for(world.e1_staff)
    upload(client, csv_bytes([row(world.e1, period="2099-13")]), "draft-march.csv", dry_run="on")
    html = client.get(reverse("intake:batch-list"), **EN).content.decode()
    assert "draft-march.csv" in html
    assert "rejected · dry run" in html
    assert f'href="{reverse("intake:upload")}"' in html


def test_batch_detail_links_back(world, client_for):
    client = client_for(world.e1_staff)
    upload(client, csv_bytes([row(world.e1)]))
    batch = ImportBatch.objects.get()
    html = client.get(reverse("intake:batch-detail", args=[batch.pk]), **EN).content.decode()
    assert f'href="{reverse("intake:batch-list")}"' in html and f'href="{reverse("intake:upload")}"' in html


def test_platform_admin_sees_whose_batch_it_is(world, client_for):
    upload(client_for(world.e1_staff), csv_bytes([row(world.e1)]))
    html = client_for(world.admin).get(reverse("intake:batch-list"), **EN).content.decode()
    assert "Organisation" in html and world.e1.name in html


# --- a month -------------------------------------------------------------------------------------------


def test_month_shows_item_names_and_readable_sources(world, client_for):
    client = client_for(world.e1_staff)
    upload(client, csv_bytes([row(world.e1, source="lab"), row(world.e1, item="diesel", source="invoice")]))
    html = client.get(month_url(world.e1), **EN).content.decode()
    assert "raw coal" in html and "laboratory analysis" in html
    assert "<td>lab</td>" not in html


def test_month_links_back_to_the_list_each_user_came_from(world, client_for):
    enterprise = client_for(world.e1_staff).get(month_url(world.e1), **EN).content.decode()
    assert f'href="{reverse("intake:deposits")}"' in enterprise
    assert f'href="{reverse("intake:upload")}"' in enterprise  # nothing reported yet: where to do it
    government = client_for(world.gov_a).get(month_url(world.e1), **EN).content.decode()
    assert f'href="{reverse("intake:overdue")}"' in government
    assert f'href="{reverse("intake:upload")}"' not in government


def test_month_shows_the_correction_reason_to_government(world, client_for):
    client = client_for(world.e1_staff)
    upload(client, csv_bytes([row(world.e1, quantity="1")]))
    upload(client, csv_bytes([row(world.e1, quantity="2")]), correction_reason="meter recalibrated")
    html = client_for(world.gov_a).get(month_url(world.e1), **EN).content.decode()
    assert "meter recalibrated" in html


def test_file_size_column_is_not_called_size(world, client_for):
    client = client_for(world.e1_staff)
    client.post(
        month_url(world.e1), {"kind": "invoice", "file": SimpleUploadedFile("a.pdf", b"%PDF-1.7\n%%EOF\n")}
    )
    html = client.get(month_url(world.e1), **EN).content.decode()
    assert "File size" in html


def test_cma_refusal_is_shown_at_the_checkbox(world, client_for):
    response = client_for(world.e1_staff).post(
        month_url(world.e1),
        {"kind": "invoice", "cma_cnas": "on", "file": SimpleUploadedFile("a.png", PNG)},
        **EN,
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "INT-EVIDENCE-CMA-NOT-LAB" in str(form.errors["cma_cnas"]) and "file" not in form.errors


def test_freeze_and_unfreeze_say_what_happened(world, client_for):
    client = client_for(world.gov_a)
    url = reverse("intake:freeze", args=[world.e1.credit_code, "2024-03"])
    frozen = client.post(url, {"action": "freeze", "reason": "on-site check"}, follow=True, **EN)
    assert "The month is frozen" in frozen.content.decode()
    assert 'data-frozen="yes"' in frozen.content.decode()
    unfrozen = client.post(url, {"action": "unfreeze", "reason": "check done"}, follow=True, **EN)
    assert "The month is unfrozen" in unfrozen.content.decode()
    assert not EnterpriseMonth.objects.get(enterprise=world.e1, period="2024-03").frozen


def test_overview_marks_frozen_months_and_states_the_deadline(world, client_for, settings):
    settings.KILN_DEPOSIT_DEADLINE_DAYS = 40
    EnterpriseMonth.objects.create(enterprise=world.e1, period="2024-03", frozen=True, reason="check")
    html = (
        client_for(world.e1_staff)
        .get(reverse("intake:deposits"), {"until": "2024-06"}, **EN)
        .content.decode()
    )
    assert html.count('data-frozen="yes"') == 1
    assert "within 40 days after the month ends" in html
