"""Importing enterprises, regions and industries: formats, headers, row-level errors, all-or-nothing."""

import pytest
from django.test import override_settings

from kiln.registry import errors
from kiln.registry.models import Enterprise, GovernmentDepartment, Industry, Region
from kiln.registry.reference import load_reference_data
from kiln.registry.services import import_registry_file
from tests.registry.files import EN_HEADERS, ZH_HEADERS, code, csv_bytes, enterprise_row, xlsx_bytes


def run(data: bytes, kind: str = "enterprises", actor=None):
    return import_registry_file(actor=actor, kind=kind, data=data)


def only_error(result):
    assert not result.ok
    assert len(result.errors) == 1, [(e.code, e.row, e.column, e.value) for e in result.errors]
    return result.errors[0]


GOOD_ROWS = [
    enterprise_row("MA0000101", "青溪水泥一厂", name_en="Qingxi Cement No.1", address="溪南区工业路 1 号"),
    enterprise_row("MA0000102", "青溪水泥二厂", size="small", key_emitter="false"),
]


# --- formats and headers -----------------------------------------------------------------------------


def test_utf8_csv_with_english_headers(world):
    result = run(csv_bytes([EN_HEADERS, *GOOD_ROWS]))
    assert result.ok, result.errors
    assert (result.rows, result.created, result.updated) == (2, 2, 0)
    assert result.source_format == "csv (UTF-8)"
    first = Enterprise.objects.get(credit_code=code("MA0000101"))
    assert (first.name, first.name_en, first.size, first.key_emitter) == (
        "青溪水泥一厂",
        "Qingxi Cement No.1",
        "large",
        True,
    )
    assert first.region == world.county_a and first.industry == world.cement
    assert first.kind == "enterprise" and first.address == "溪南区工业路 1 号"
    second = Enterprise.objects.get(credit_code=code("MA0000102"))
    assert (second.size, second.key_emitter) == ("small", False)


def test_gbk_csv_with_chinese_headers_and_chinese_values(world):
    rows = [ZH_HEADERS, enterprise_row("MA0000103", "白沙钢铁有限公司", size="大型", key_emitter="是")]
    result = run(csv_bytes(rows, encoding="gbk"))
    assert result.ok, result.errors
    assert result.source_format == "csv (GB18030)"
    e = Enterprise.objects.get(credit_code=code("MA0000103"))
    assert (e.name, e.size, e.key_emitter) == ("白沙钢铁有限公司", "large", True)


def test_utf8_bom_csv(world):
    result = run(b"\xef\xbb\xbf" + csv_bytes([ZH_HEADERS, GOOD_ROWS[0]]))
    assert result.ok, result.errors
    assert result.source_format == "csv (UTF-8 BOM)"
    assert Enterprise.objects.filter(credit_code=code("MA0000101")).exists()


def test_utf16_tab_separated_text(world):
    text = "\n".join("\t".join(str(v) for v in row) for row in [ZH_HEADERS, GOOD_ROWS[0]])
    result = run(text.encode("utf-16"))
    assert result.ok, result.errors


def test_xlsx_with_numbers_typed_as_numbers(world):
    row = enterprise_row("MA0000104", "青溪玻璃厂")
    row[EN_HEADERS.index("region_code")] = 339902  # Excel stores a typed-in code as a number
    row[EN_HEADERS.index("key_emitter")] = True
    result = run(xlsx_bytes([ZH_HEADERS, row]))
    assert result.ok, result.errors
    assert result.source_format == "xlsx"
    assert Enterprise.objects.get(credit_code=code("MA0000104")).key_emitter is True


def test_headers_are_matched_loosely_and_extra_columns_ignored(world):
    headers = ["序号", "Credit Code", "统一社会信用代码*" and "NAME", "Region-Code", "industry code", "备注"]
    row = ["1", code("MA0000105"), "青溪石灰厂", "339902", "C3011", "whatever"]
    result = run(csv_bytes([headers, row]))
    assert result.ok, result.errors
    e = Enterprise.objects.get(credit_code=code("MA0000105"))
    assert (e.size, e.key_emitter) == ("medium", False)  # defaults for absent columns


def test_codes_in_full_width_or_lower_case_and_bare_industry_digits(world):
    full_width = code("MA0000106").translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"}
    )
    row = enterprise_row("MA0000106", "青溪水泥三厂", industry_code="3011", region_code="３３９９０２")
    row[0] = full_width
    result = run(csv_bytes([EN_HEADERS, row]))
    assert result.ok, result.errors
    assert Enterprise.objects.get(credit_code=code("MA0000106")).industry == world.cement


# --- updates --------------------------------------------------------------------------------------------


def test_existing_enterprises_are_updated_and_blank_cells_keep_values(world):
    world.e1.address = "旧地址"
    world.e1.key_emitter = True
    world.e1.save()
    row = enterprise_row("MA0000001", "E1 水泥股份有限公司", size="", key_emitter="", address="")
    result = run(csv_bytes([EN_HEADERS, row, *GOOD_ROWS]))
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    e1 = Enterprise.objects.get(pk=world.e1.pk)
    assert e1.name == "E1 水泥股份有限公司"
    assert (e1.address, e1.key_emitter, e1.size) == ("旧地址", True, "medium")  # kept
    again = run(csv_bytes([EN_HEADERS, row, *GOOD_ROWS]))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_moving_an_enterprise_to_another_region(world):
    row = enterprise_row("MA0000002", "E2 水泥有限公司", region_code="339902")
    row[0] = world.e2.credit_code
    assert run(csv_bytes([EN_HEADERS, row])).ok
    world.e2.refresh_from_db()
    assert world.e2.region == world.county_a


def test_large_file_uses_bulk_statements(world, django_assert_max_num_queries):
    # Batched statements, never one per row (SQLite's parameter limit keeps batches near 100 rows).
    rows = [enterprise_row(f"MB{i:07d}", f"企业{i}") for i in range(2000)]
    with django_assert_max_num_queries(60):
        result = run(csv_bytes([EN_HEADERS, *rows]))
    assert result.ok and result.created == 2000
    assert Enterprise.objects.count() == 2002
    with django_assert_max_num_queries(100):
        renamed = run(csv_bytes([EN_HEADERS, *[[*r[:1], r[1] + "（更名）", *r[2:]] for r in rows]]))
    assert renamed.updated == 2000


# --- all or nothing ----------------------------------------------------------------------------------


def test_one_bad_row_saves_nothing(world):
    bad = enterprise_row("MA0000109", "坏行", region_code="999999")
    result = run(csv_bytes([EN_HEADERS, *GOOD_ROWS, bad, enterprise_row("MA0000110", "好行")]))
    error = only_error(result)
    assert (error.code, error.row, error.column, error.value) == (
        errors.REGION_UNKNOWN,
        4,
        "region_code",
        "999999",
    )
    assert Enterprise.objects.count() == 2  # only the world's E1 and E2
    assert result.created == 0


def test_every_error_is_reported_not_just_the_first(world):
    rows = [
        enterprise_row("MA0000111", "", size="huge"),
        enterprise_row("MA0000112", "x", industry_code="C9999", key_emitter="maybe"),
    ]
    result = run(csv_bytes([EN_HEADERS, *rows]))
    found = sorted((e.row, e.code) for e in result.errors)
    assert found == [
        (2, errors.REQUIRED),
        (2, errors.SIZE_INVALID),
        (3, errors.BOOLEAN_INVALID),
        (3, errors.INDUSTRY_UNKNOWN),
    ]


def test_row_numbers_match_the_spreadsheet_with_blank_rows(world):
    rows = [[], EN_HEADERS, GOOD_ROWS[0], [], enterprise_row("MA0000113", "y", size="huge")]
    error = only_error(run(xlsx_bytes(rows)))
    assert error.row == 5  # blank row 1 above the header, blank row 4 in the body


# --- each error code ---------------------------------------------------------------------------------

TOO_LONG_NAME = "长" * 201


@pytest.mark.parametrize(
    ("overrides", "expected_code", "column"),
    [
        ({"credit_code": "91339902MA000011"}, errors.CREDIT_LENGTH, "credit_code"),
        ({"credit_code": "91339902MA000011IO"}, errors.CREDIT_CHARSET, "credit_code"),
        ({"credit_code": "9133990AMA00001143"}, errors.CREDIT_REGION, "credit_code"),
        ({"credit_code": "91339902MA00001140"}, errors.CREDIT_CHECKSUM, "credit_code"),
        ({"credit_code": ""}, errors.REQUIRED, "credit_code"),
        ({"name": TOO_LONG_NAME}, errors.TOO_LONG, "name"),
        ({"region_code": "339999"}, errors.REGION_UNKNOWN, "region_code"),
        ({"industry_code": "C3019"}, errors.INDUSTRY_UNKNOWN, "industry_code"),
        ({"size": "巨型"}, errors.SIZE_INVALID, "size"),
        ({"key_emitter": "maybe"}, errors.BOOLEAN_INVALID, "key_emitter"),
    ],
)
def test_enterprise_error_codes(world, overrides, expected_code, column):
    overrides = dict(overrides)
    row = enterprise_row("MA0000114", overrides.pop("name", "测试企业"), **overrides)
    error = only_error(run(csv_bytes([EN_HEADERS, row])))
    assert (error.code, error.row, error.column) == (expected_code, 2, column)
    assert error.message  # renders with its parameters


def test_chinese_header_is_reported_as_written(world):
    row = enterprise_row("MA0000115", "测试企业", size="huge")
    error = only_error(run(csv_bytes([ZH_HEADERS, row])))
    assert (error.column, error.value) == ("企业规模", "huge")


def test_duplicate_in_file(world):
    row = enterprise_row("MA0000116", "重复企业")
    error = only_error(run(csv_bytes([EN_HEADERS, row, GOOD_ROWS[0], row])))
    assert (error.code, error.row, error.params["first_row"]) == (errors.DUPLICATE_IN_FILE, 4, 2)


def test_credit_code_of_a_non_enterprise(world):
    department = GovernmentDepartment.objects.get(name="青溪市生态环境局")
    department.credit_code = code("MA0000117")
    department.save()
    error = only_error(run(csv_bytes([EN_HEADERS, enterprise_row("MA0000117", "冒名企业")])))
    assert error.code == errors.CREDIT_TAKEN and "青溪市生态环境局" in error.message


@pytest.mark.parametrize(
    ("data", "expected_code"),
    [
        (b"", errors.FILE_EMPTY),
        (b" \r\n", errors.FILE_EMPTY),
        (csv_bytes([EN_HEADERS]), errors.FILE_EMPTY),  # a header and no data
        (b"PK\x03\x04 not really a workbook", errors.FILE_UNREADABLE),
        (b"credit_code,name\n\xff\xfe\xff\x00", errors.FILE_UNREADABLE),
        (b"credit_code,name\n\x81\x30", errors.FILE_UNREADABLE),  # truncated GB18030 sequence
    ],
)
def test_file_level_errors(world, data, expected_code):
    error = only_error(run(data))
    assert error.code == expected_code and error.row is None


def test_missing_and_duplicate_headers(world):
    result = run(
        csv_bytes([["credit_code", "统一社会信用代码", "name", "industry_code"], ["x", "x", "y", "z"]])
    )
    found = sorted((e.code, e.column) for e in result.errors)
    assert found == [
        (errors.HEADER_DUPLICATE, "统一社会信用代码"),
        (errors.HEADER_MISSING, "region_code"),
    ]
    assert all(e.row == 1 for e in result.errors)


@override_settings(KILN_MAX_UPLOAD_BYTES=100)
def test_file_too_large(world):
    error = only_error(run(csv_bytes([EN_HEADERS, *GOOD_ROWS])))
    assert error.code == errors.FILE_TOO_LARGE


# --- regions -----------------------------------------------------------------------------------------

REGION_HEADERS = ["code", "name", "name_en", "level", "parent_code"]


def test_region_import_infers_level_and_parent(db):
    load_reference_data()
    rows = [["行政区划代码", "名称"], ["330102", "上城区"], ["330105", "拱墅区"]]
    result = run(csv_bytes(rows), kind="regions")
    assert result.ok, result.errors
    district = Region.objects.get(code="330102")
    assert (district.level, district.parent.code, district.path) == (
        3,
        "330100",
        "000000/330000/330100/330102/",
    )


def test_region_parents_may_come_later_in_the_same_file(db):
    load_reference_data()
    rows = [
        REGION_HEADERS,
        ["339902", "溪南区", "", "", "339900"],
        ["339900", "青溪市", "Qingxi", "2", "330000"],
    ]
    result = run(csv_bytes(rows), kind="regions")
    assert result.ok, result.errors
    assert Region.objects.get(code="339902").path == "000000/330000/339900/339902/"


def test_moving_a_region_rebuilds_paths_below_it(world):
    other = Region.objects.create(code="340000", name="安徽省", level=1, parent=world.nation)
    result = run(csv_bytes([REGION_HEADERS, ["339900", "青溪市", "", "2", "340000"]]), kind="regions")
    assert result.ok and result.updated == 1
    world.county_a.refresh_from_db()
    assert world.county_a.path == "000000/340000/339900/339902/"
    assert other.children.count() == 1


@pytest.mark.parametrize(
    ("row", "expected_code", "column"),
    [
        (["33010", "短码", "", "", ""], errors.REGION_CODE_INVALID, "code"),
        (["330199", "某区", "", "4", ""], errors.LEVEL_INVALID, "level"),
        (["330199", "某区", "", "", "339700"], errors.PARENT_UNKNOWN, "parent_code"),
        (["339701", "某区", "", "", ""], errors.PARENT_UNKNOWN, "parent_code"),  # inferred 339700 absent
        (["339701", "某区", "", "1", "339900"], errors.PARENT_LEVEL, "parent_code"),
        (["000000", "国家", "", "0", "330000"], errors.PARENT_UNEXPECTED, "parent_code"),
        (["339701", "", "", "", "339900"], errors.REQUIRED, "name"),
    ],
)
def test_region_error_codes(world, row, expected_code, column):
    error = only_error(run(csv_bytes([REGION_HEADERS, row]), kind="regions"))
    assert (error.code, error.row, error.column) == (expected_code, 2, column)


# --- industries --------------------------------------------------------------------------------------

INDUSTRY_HEADERS = ["code", "name", "name_en", "level", "parent_code", "ets_sector"]


def test_industry_import_infers_parent_and_reads_chinese_sector(db):
    load_reference_data()
    rows = [
        ["行业代码", "名称", "全国碳市场行业"],
        ["C3012", "石灰和石膏制造", ""],
        ["C3041", "平板玻璃制造", "水泥"],
    ]
    result = run(csv_bytes(rows), kind="industries")
    assert result.ok, result.errors
    assert Industry.objects.get(code="C3012").parent.code == "C301"
    assert Industry.objects.get(code="C3041").ets_sector == "cement"


def test_industry_file_is_authoritative_for_its_columns(world):
    result = run(
        csv_bytes([INDUSTRY_HEADERS, ["C3011", "水泥制造", "Cement", "3", "C30", ""]]), kind="industries"
    )
    assert result.ok and result.updated == 1
    assert Industry.objects.get(code="C3011").ets_sector == ""  # cleared, the column was there


@pytest.mark.parametrize(
    ("row", "expected_code", "column"),
    [
        (["C301A", "坏码", "", "", "", ""], errors.INDUSTRY_CODE_INVALID, "code"),
        (["X30", "坏门类", "", "", "", ""], errors.INDUSTRY_CODE_INVALID, "code"),
        (["C3012", "石灰", "", "2", "", ""], errors.LEVEL_MISMATCH, "level"),
        (["C3012", "石灰", "", "", "C31", ""], errors.PARENT_MISMATCH, "parent_code"),
        (["C3012", "石灰", "", "", "C301", ""], errors.PARENT_UNKNOWN, "parent_code"),
        (["D4411", "火力发电", "", "", "", ""], errors.PARENT_UNKNOWN, "parent_code"),  # no D section yet
        (["C", "制造业", "", "0", "C", ""], errors.PARENT_UNEXPECTED, "parent_code"),
        (["C3012", "石灰", "", "", "", "coal"], errors.ETS_SECTOR_INVALID, "ets_sector"),
    ],
)
def test_industry_error_codes(world, row, expected_code, column):
    error = only_error(run(csv_bytes([INDUSTRY_HEADERS, row]), kind="industries"))
    assert (error.code, error.row, error.column) == (expected_code, 2, column)
