"""Build upload files in the shapes Chinese office software produces."""

from __future__ import annotations

import csv
import io

import openpyxl

from kiln.registry import credit_code

EN_HEADERS = [
    "credit_code",
    "name",
    "name_en",
    "region_code",
    "industry_code",
    "size",
    "key_emitter",
    "address",
]
ZH_HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "英文名称",
    "行政区划代码",
    "行业代码",
    "企业规模",
    "重点排放单位",
    "地址",
]


def code(body: str, region: str = "339902") -> str:
    """A valid credit code registered in ``region`` (body: 9 characters)."""
    return credit_code.make("9", "1", region, body)


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def enterprise_row(body: str, name: str, **overrides) -> list[object]:
    """A good enterprise row in EN_HEADERS order, in the persona world (county 339902, cement)."""
    values = {
        "credit_code": code(body),
        "name": name,
        "name_en": "",
        "region_code": "339902",
        "industry_code": "C3011",
        "size": "large",
        "key_emitter": "true",
        "address": "",
    }
    values.update(overrides)
    return [values[h] for h in EN_HEADERS]
