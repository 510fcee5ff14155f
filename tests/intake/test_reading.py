"""Reading files: encodings, workbooks, headers, and every kind of bad file."""

import io
import zipfile

import openpyxl
import pytest

from kiln.intake import errors
from kiln.intake.errors import FileProblem
from kiln.intake.reading import decode, read_file
from tests.intake.files import EN_HEADERS, ZH_HEADERS, csv_bytes, xlsx_bytes

CODE = "91339902MA00000015"
ROW = [CODE, "2024-03", "raw_coal", "1200", "吨", "计量", "1号窑", "月度台账"]


def problem(data: bytes, name: str | None = None) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        read_file(data, name)
    return caught.value


def test_utf8_csv_with_english_headers():
    table = read_file(csv_bytes([ROW]), "data.csv")
    assert table.source_format == "csv (UTF-8)"
    assert table.frame.row(0, named=True) == {
        "_row": 2,
        "credit_code": CODE,
        "period": "2024-03",
        "item": "raw_coal",
        "quantity": "1200",
        "unit": "吨",
        "source": "计量",
        "facility": "1号窑",
        "note": "月度台账",
    }


def test_gbk_csv_with_chinese_headers():
    table = read_file(csv_bytes([ROW], encoding="gbk", headers=ZH_HEADERS), "数据.csv")
    assert table.source_format == "csv (GB18030)"
    assert table.headers["credit_code"] == "统一社会信用代码"
    assert table.frame["unit"].to_list() == ["吨"] and table.frame["facility"].to_list() == ["1号窑"]


def test_gb18030_only_characters():
    rows = [[*ROW[:7], "𠀀 扩展B区"]]
    table = read_file(csv_bytes(rows, encoding="gb18030", headers=ZH_HEADERS), "x.csv")
    assert table.frame["note"].to_list() == ["𠀀 扩展B区"]


def test_utf8_bom_csv():
    table = read_file(b"\xef\xbb\xbf" + csv_bytes([ROW], headers=ZH_HEADERS), "x.csv")
    assert table.source_format == "csv (UTF-8 BOM)"
    assert table.headers["credit_code"] == "统一社会信用代码"


def test_semicolon_and_tab_separated():
    text = "\t".join(EN_HEADERS) + "\r\n" + "\t".join(ROW) + "\r\n"
    assert read_file(text.encode(), "x.txt").frame["item"].to_list() == ["raw_coal"]
    text = ";".join(EN_HEADERS) + "\n" + ";".join(ROW) + "\n"
    assert read_file(text.encode(), "x.csv").frame["item"].to_list() == ["raw_coal"]


def test_mixed_encodings_are_refused():
    data = csv_bytes([ROW]) + csv_bytes([ROW], encoding="gbk", headers=None)
    caught = problem(data, "x.csv")
    assert caught.code == errors.FILE_ENCODING
    assert "line 2 is UTF-8, line 3 is not" in caught.errors["detail"][0]


def test_decode_prefers_utf8_then_gb18030():
    assert decode("月份".encode())[1] == "UTF-8"
    assert decode("月份".encode("gbk"))[1] == "GB18030"


def test_blank_rows_keep_their_numbers():
    data = csv_bytes([ROW, ["", "", "", "", "", "", "", ""], [*ROW[:2], "diesel", *ROW[3:]]])
    assert read_file(data, "x.csv").frame["_row"].to_list() == [2, 4]


def test_xlsx_with_chinese_headers_numbers_and_dates():
    import datetime

    rows = [
        [CODE, datetime.datetime(2024, 3, 1), "raw_coal", 1200, "t", "", "", ""],
        [CODE, "2024-04", "diesel", 12.75, "t", "", "", ""],
    ]
    table = read_file(xlsx_bytes(rows), "月报.xlsx")
    assert table.source_format == "xlsx"
    assert table.frame["period"].to_list() == ["2024-03", "2024-04"]
    assert table.frame["quantity"].to_list() == ["1200", "12.75"]
    assert table.frame["_row"].to_list() == [2, 3]


def test_header_missing_and_duplicate():
    table = read_file(csv_bytes([ROW[:4]], headers=["credit_code", "月份", "period", "item"]), "x.csv")
    codes = sorted(table.problems["code"].to_list())
    assert codes == [errors.HEADER_DUPLICATE, errors.HEADER_MISSING, errors.HEADER_MISSING]
    assert set(table.problems.filter(code=errors.HEADER_MISSING)["column"]) == {"quantity", "unit"}


def test_unknown_columns_are_ignored_and_optional_ones_filled():
    table = read_file(csv_bytes([["1", *ROW[:5]]], headers=["序号", *EN_HEADERS[:5]]), "x.csv")
    assert table.problems.height == 0
    assert table.frame["note"].to_list() == [""]


# --- bad files --------------------------------------------------------------------------------------


def test_empty_file():
    assert problem(b"", "x.csv").code == errors.FILE_EMPTY
    assert problem(b"  \r\n\r\n", "x.csv").code == errors.FILE_EMPTY
    assert problem(b"\xef\xbb\xbf", "x.csv").code == errors.FILE_EMPTY


def test_header_only_file():
    assert problem(csv_bytes([]), "x.csv").code == errors.FILE_HEADERS_ONLY
    assert problem(csv_bytes([[""] * 8, [""] * 8]), "x.csv").code == errors.FILE_HEADERS_ONLY
    assert problem(xlsx_bytes([]), "x.xlsx").code == errors.FILE_HEADERS_ONLY


def test_oversize_file(settings):
    settings.KILN_MAX_UPLOAD_BYTES = 100
    caught = problem(csv_bytes([ROW] * 10), "x.csv")
    assert caught.code == errors.FILE_TOO_LARGE and caught.errors["detail"][0] == "100 bytes"


def test_extension_does_not_match_content():
    assert problem(csv_bytes([ROW]), "data.xlsx").code == errors.FILE_TYPE_MISMATCH
    assert problem(xlsx_bytes([ROW]), "data.csv").code == errors.FILE_TYPE_MISMATCH
    assert problem(b"%PDF-1.7\n...", "data.csv").code == errors.FILE_TYPE_MISMATCH
    assert problem(b"\x89PNG\r\n\x1a\n\x00\x00", "data.xlsx").code == errors.FILE_TYPE_MISMATCH
    assert problem(b"\x00\x01\x02binary", "data.csv").code == errors.FILE_TYPE_MISMATCH


def test_unsupported_types():
    assert problem(b"%PDF-1.7\n...", "report.pdf").code == errors.FILE_TYPE_UNSUPPORTED
    assert problem(csv_bytes([ROW]), "data.exe").code == errors.FILE_TYPE_UNSUPPORTED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert problem(buffer.getvalue(), "x.xlsx").code == errors.FILE_TYPE_MISMATCH  # a zip, but not a workbook


def _bomb(size: int, *, lie: bool = False) -> bytes:
    """An .xlsx-looking zip whose sheet inflates to ``size`` bytes of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * size)
    data = buffer.getvalue()
    if lie:
        # Rewrite the declared uncompressed size (central directory and local header) to 1 KB.
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        real = info.file_size.to_bytes(4, "little")
        data = data.replace(real, (1024).to_bytes(4, "little"))
    return data


def test_zip_bomb_by_ratio():
    caught = problem(_bomb(50 * 1024 * 1024), "bomb.xlsx")
    assert caught.code == errors.FILE_ZIP_BOMB
    assert "ratio" in caught.errors["detail"][0]


def test_zip_bomb_by_total_size(settings):
    settings.KILN_MAX_XLSX_UNCOMPRESSED_BYTES = 1024 * 1024
    assert problem(_bomb(2 * 1024 * 1024), "bomb.xlsx").code == errors.FILE_ZIP_BOMB


def test_zip_bomb_that_lies_about_its_size():
    caught = problem(_bomb(8 * 1024 * 1024, lie=True), "bomb.xlsx")
    assert caught.code == errors.FILE_ZIP_BOMB
    assert "beyond its declared size" in caught.errors["detail"][0]


def test_formula_cells_are_reported_not_evaluated():
    data = xlsx_bytes([[CODE, "2024-03", "raw_coal", "=1+1", "t", "", "", "=cmd|' /C calc'!A0"]])
    table = read_file(data, "x.xlsx")
    formulas = table.problems.filter(code=errors.CELL_FORMULA)
    assert sorted(zip(formulas["row"], formulas["column"], strict=True)) == [(2, "note"), (2, "quantity")]
    assert table.frame["quantity"].to_list() == [""]  # the formula was never run


def test_corrupt_workbook():
    data = xlsx_bytes([ROW])
    assert problem(data[: len(data) // 2], "x.xlsx").code == errors.FILE_UNREADABLE


def test_xlsx_row_numbers_with_leading_blank_rows_and_columns():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "数据"
    for c, header in enumerate(ZH_HEADERS, start=2):
        sheet.cell(3, c, header)  # header in row 3, starting at column B
    for c, value in enumerate(ROW, start=2):
        sheet.cell(4, c, value)
        sheet.cell(6, c, value)  # row 5 left blank
    sheet.cell(6, 4, "diesel")
    workbook.create_sheet("说明").append(["ignored"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_file(buffer.getvalue(), "x.xlsx")
    assert table.frame["_row"].to_list() == [4, 6]
    assert table.frame["item"].to_list() == ["raw_coal", "diesel"]


def test_xlsx_first_sheet_is_read_whatever_its_file_name():
    workbook = openpyxl.Workbook()
    workbook.active.append(["not", "this"])
    first = workbook.create_sheet("月报", 0)  # inserted before: first in the workbook, stored as sheet2.xml
    first.append(ZH_HEADERS)
    first.append([*ROW[:3], "=2*600", *ROW[4:]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_file(buffer.getvalue(), "x.xlsx")
    assert table.frame["credit_code"].to_list() == [CODE]
    assert table.problems.filter(code=errors.CELL_FORMULA)["column"].to_list() == ["quantity"]


def test_every_error_code_has_a_message_in_both_languages():
    from django.utils import translation

    codes = [
        v for k, v in vars(errors).items() if k.isupper() and isinstance(v, str) and v.startswith("INT-")
    ]
    assert len(codes) == len(set(codes)) >= 35
    for code in codes:
        for language in ("zh-hans", "en"):
            with translation.override(language):
                text = errors.message(code, value="v", column="c", detail="d")
            assert text and text != code, code
