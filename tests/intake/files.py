"""Activity files in the shapes Chinese office software produces."""

from __future__ import annotations

import csv
import io

import openpyxl

EN_HEADERS = ["credit_code", "period", "item", "quantity", "unit", "source", "facility", "note"]
ZH_HEADERS = ["统一社会信用代码", "月份", "项目代码", "数量", "单位", "数据来源", "设施", "备注"]


def row(
    enterprise,
    period="2024-03",
    item="raw_coal",
    quantity="1200.5",
    unit="t",
    source="meter",
    facility="",
    note="",
) -> list[str]:
    code = enterprise if isinstance(enterprise, str) else enterprise.credit_code
    return [code, period, item, quantity, unit, source, facility, note]


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8", headers=EN_HEADERS) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([headers, *rows] if headers else rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], headers=ZH_HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for r in [headers, *rows] if headers else rows:
        sheet.append(r)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def codes(result) -> list[str]:
    return [e["code"] for e in result.report["errors"]]
