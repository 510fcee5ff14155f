"""Enterprise exports: scoping, formats, round trip, and no formula ever leaves Kiln live."""

import io

import openpyxl
import pytest
from django.urls import reverse

from kiln.registry.exports import ENTERPRISE_HEADERS, neutralise
from kiln.registry.models import Enterprise
from kiln.registry.services import import_registry_file

CSV_URL = reverse("registry:enterprise-export-csv")
XLSX_URL = reverse("registry:enterprise-export-xlsx")


def csv_lines(response) -> list[str]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 instead of guessing GBK
    return body.decode("utf-8-sig").splitlines()


def xlsx_rows(content: bytes) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return list(sheet.iter_rows(values_only=True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 571", "'+86 571"),
        ("-5", "-5"),  # a plain number cannot be a formula
        ("-23.244", "-23.244"),
        ("+1.5e3", "+1.5e3"),
        ("-5+cmd|' /C calc'!A0", "'-5+cmd|' /C calc'!A0"),
        ("-", "'-"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("青溪水泥", "青溪水泥"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_csv_export_for_admin_has_chinese_headers_and_everything(client, world):
    client.force_login(world.admin)
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    lines = csv_lines(response)
    assert lines[0].split(",") == ENTERPRISE_HEADERS
    assert len(lines) == 3
    assert world.e1.credit_code in lines[1] + lines[2] and "中型" in lines[1] and "否" in lines[1]


def test_export_is_scoped_to_the_acting_membership(client, world):
    client.force_login(world.gov_a)
    lines = csv_lines(client.get(CSV_URL))
    assert len(lines) == 2 and world.e1.credit_code in lines[1]  # E2 is in city B


def test_enterprise_staff_export_their_own_enterprise(client, world):
    client.force_login(world.e1_staff)
    lines = csv_lines(client.get(CSV_URL))
    assert len(lines) == 2 and world.e1.credit_code in lines[1]


def test_users_without_a_membership_get_404(client, world, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(CSV_URL).status_code == 404
    assert client.get(XLSX_URL).status_code == 404


def test_xlsx_export(client, world):
    client.force_login(world.admin)
    response = client.get(XLSX_URL)
    assert response.status_code == 200 and response["Content-Type"].endswith("spreadsheetml.sheet")
    rows = xlsx_rows(response.content)
    assert list(rows[0]) == ENTERPRISE_HEADERS
    codes = {r[0] for r in rows[1:]}
    assert codes == {world.e1.credit_code, world.e2.credit_code}
    assert all(isinstance(r[3], str) for r in rows[1:])  # region codes stay text


def test_formulas_are_neutralised_in_both_formats(client, world):
    Enterprise.objects.filter(pk=world.e1.pk).update(name='=HYPERLINK("http://evil.example","点我")')
    Enterprise.objects.filter(pk=world.e1.pk).update(address="@cmd|' /C calc'!A0")
    client.force_login(world.admin)
    text = "\n".join(csv_lines(client.get(CSV_URL)))
    assert '"\'=HYPERLINK(""http://evil.example"",""点我"")"' in text
    assert "'@cmd" in text
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(XLSX_URL).content))
    cells = [c for row in workbook.active.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert len(cells) == 1 and cells[0].data_type == "s" and cells[0].value.startswith("'=")


@pytest.mark.parametrize("url", [CSV_URL, XLSX_URL])
def test_round_trip_restores_what_was_exported(client, world, url):
    original_name = "=SUM(1,2) 青溪"  # survives the trip despite the neutralising quote
    Enterprise.objects.filter(pk=world.e1.pk).update(name=original_name, key_emitter=True, size="large")
    # The personas leave Organisation.kind empty; an import would repair it and count an update.
    Enterprise.objects.update(kind="enterprise")
    client.force_login(world.admin)
    response = client.get(url)
    exported = b"".join(response.streaming_content) if response.streaming else response.content

    unchanged = import_registry_file(actor=None, kind="enterprises", data=exported)
    assert unchanged.ok, unchanged.errors
    assert (unchanged.created, unchanged.updated, unchanged.unchanged) == (0, 0, 2)

    Enterprise.objects.filter(pk=world.e1.pk).update(name="改过的名字", key_emitter=False, size="micro")
    restored = import_registry_file(actor=None, kind="enterprises", data=exported)
    assert restored.updated == 1
    e1 = Enterprise.objects.get(pk=world.e1.pk)
    assert (e1.name, e1.key_emitter, e1.size) == (original_name, True, "large")
