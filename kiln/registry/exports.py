"""Enterprise exports and import error reports, as CSV (UTF-8 with BOM, so Excel opens it) or XLSX.

Every cell that a spreadsheet would run as a formula (=, +, -, @, tab, carriage return
at the start) is prefixed with a single quote: a registry export must never carry a
formula planted in an enterprise name (CSV/formula injection). The importer removes
that quote again, so an export can be re-imported unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence

import xlsxwriter
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kiln.registry.errors import RowError
from kiln.registry.models import Enterprise

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
BOM = "\ufeff"

# Headers in Chinese whatever the UI language, so the files are stable and re-importable
# (the importer ignores the two name columns, which are there for people).
SIZE_ZH = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
ENTERPRISE_HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "英文名称",
    "行政区划代码",
    "行政区划名称",
    "行业代码",
    "行业名称",
    "企业规模",
    "重点排放单位",
    "地址",
]


def neutralise(value: object) -> str:
    """Text for a spreadsheet cell that a spreadsheet will not run as a formula (CSV injection).

    A leading ``= + - @``, tab or carriage return gets an apostrophe, except on a plain number:
    ``-23.5`` cannot be a formula, and a report should show it as it was typed.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def enterprise_rows(enterprises: QuerySet[Enterprise]) -> Iterator[list[str]]:
    qs = enterprises.select_related("region", "industry").order_by("region__code", "credit_code")
    for e in qs.iterator(chunk_size=2000):
        yield [
            e.credit_code or "",
            e.name,
            e.name_en,
            e.region.code,
            e.region.name,
            e.industry.code,
            e.industry.name,
            SIZE_ZH.get(e.size, e.size),
            "是" if e.key_emitter else "否",
            e.address,
        ]


def error_report_headers() -> list[str]:
    return [_("Row"), _("Column"), _("Value"), _("Error code"), _("Message")]


def error_report_rows(errors: Iterable[RowError]) -> Iterator[list[str]]:
    for e in errors:
        yield ["" if e.row is None else str(e.row), e.column, e.value, e.code, e.message]


class _Line:
    """A write-only file object that hands back what csv.writer wrote (for streaming)."""

    def write(self, text: str) -> str:
        return text


def csv_chunks(headers: list[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """CSV as a stream of UTF-8 chunks, BOM first: Excel then detects the encoding instead of guessing GBK."""
    writer = csv.writer(_Line())
    yield (BOM + writer.writerow([neutralise(h) for h in headers])).encode("utf-8")
    for row in rows:
        yield writer.writerow([neutralise(v) for v in row]).encode("utf-8")


def csv_bytes(headers: list[str], rows: Iterable[Sequence[object]]) -> bytes:
    return b"".join(csv_chunks(headers, rows))


def xlsx_bytes(headers: list[str], rows: Iterable[Sequence[object]], sheet_name: str = "Sheet1") -> bytes:
    buffer = io.BytesIO()
    # Strings stay strings: no formula, number or URL guessing (credit codes are all-digit sometimes).
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    sheet = workbook.add_worksheet(sheet_name[:31])
    bold = workbook.add_format({"bold": True})
    for col, header in enumerate(headers):
        sheet.write_string(0, col, neutralise(header), bold)
    widths = [len(h) * 2 + 2 for h in headers]
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            text = neutralise(value)
            sheet.write_string(r, col, text)
            widths[col] = min(60, max(widths[col], len(text) + 2))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
