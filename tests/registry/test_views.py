"""The import page: admins only (everyone else gets 404), success summary, error table and report."""

import pytest
from django.urls import reverse

from kiln.registry.models import Enterprise
from tests.registry.files import EN_HEADERS, code, csv_bytes, enterprise_row

IMPORT_URL = reverse("registry:import")
REPORT_URL = reverse("registry:import-report")
LIST_URL = reverse("registry:enterprise-list")


def upload(client, data: bytes, kind="enterprises", name="enterprises.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(IMPORT_URL, {"kind": kind, "file": SimpleUploadedFile(name, data)})


def test_admin_sees_the_upload_form(client, world):
    client.force_login(world.admin)
    response = client.get(IMPORT_URL)
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.text
    assert "统一社会信用代码" in response.text  # the layout help lists the Chinese headers


def test_admin_imports_a_good_file(client, world):
    client.force_login(world.admin)
    rows = [EN_HEADERS, enterprise_row("MA0000201", "青溪新材料"), enterprise_row("MA0000202", "青溪建材")]
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 200
    assert 'data-import-result="ok"' in response.text
    assert Enterprise.objects.filter(credit_code__in=[code("MA0000201"), code("MA0000202")]).count() == 2
    assert client.get(REPORT_URL).status_code == 404  # no failed import, no report


def test_admin_sees_errors_and_downloads_the_report(client, world):
    client.force_login(world.admin)
    rows = [
        EN_HEADERS,
        enterprise_row("MA0000203", "好企业"),
        enterprise_row("MA0000204", "=坏企业", region_code="999999"),
    ]
    response = upload(client, csv_bytes(rows))
    assert 'data-import-result="errors"' in response.text
    assert "REG-REGION-UNKNOWN" in response.text and "999999" in response.text
    assert REPORT_URL in response.text
    assert not Enterprise.objects.filter(credit_code=code("MA0000203")).exists()  # all or nothing

    report = client.get(REPORT_URL)
    assert report.status_code == 200 and "attachment" in report["Content-Disposition"]
    lines = report.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("3,region_code,999999,REG-REGION-UNKNOWN,")


def test_report_values_are_neutralised(client, world):
    client.force_login(world.admin)
    upload(client, csv_bytes([EN_HEADERS, enterprise_row("MA0000205", "x", size="=1+1")]))
    assert ",'=1+1,REG-SIZE-INVALID," in client.get(REPORT_URL).content.decode("utf-8-sig")


def test_unreadable_file_is_an_error_not_a_crash(client, world):
    client.force_login(world.admin)
    response = upload(client, b"PK\x03\x04garbage", name="broken.xlsx")
    assert response.status_code == 200 and "REG-FILE-UNREADABLE" in response.text


def test_page_in_english(client, world):
    client.force_login(world.admin)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = upload(client, csv_bytes([EN_HEADERS, enterprise_row("MA0000206", "x", size="huge")]))
    assert "Nothing was saved: the file has 1 error." in response.text
    assert "The enterprise size must be one of" in response.text


@pytest.mark.parametrize("persona", ["e1_staff", "gov_a", "verifier_e1"])
def test_everyone_else_gets_404(client, world, persona):
    client.force_login(getattr(world, persona))
    assert client.get(IMPORT_URL).status_code == 404
    assert upload(client, csv_bytes([EN_HEADERS, enterprise_row("MA0000207", "x")])).status_code == 404
    assert client.get(REPORT_URL).status_code == 404
    assert not Enterprise.objects.filter(credit_code=code("MA0000207")).exists()


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(IMPORT_URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_enterprise_list_links(client, world):
    client.force_login(world.admin)
    text = client.get(LIST_URL).text
    assert reverse("registry:enterprise-export-csv") in text and IMPORT_URL in text
    client.force_login(world.gov_a)
    text = client.get(LIST_URL).text
    assert reverse("registry:enterprise-export-xlsx") in text and IMPORT_URL not in text
