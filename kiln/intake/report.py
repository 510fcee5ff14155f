"""The error report every door returns: capped, JSON-safe, and downloadable as CSV or XLSX.

A batch of a million bad rows must not produce a million-row report: the report keeps the
first ``MAX_PER_CODE`` errors of each code, plus the total count of every code. Messages
are rendered in both Chinese and English when the report is shown or exported, so a stored
report reads correctly in either language.

Exports neutralise every cell a spreadsheet would run as a formula (a leading ``=``, ``+``,
``-``, ``@``, tab or carriage return gets a ``'`` prefix): error reports echo user input.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

import polars as pl
import xlsxwriter
from django.utils import translation

from kiln.intake.errors import message
from kiln.registry.exports import neutralise

MAX_PER_CODE = 1000
BOM = "\ufeff"
REPORT_HEADERS = ["行号 row", "列 column", "值 value", "错误代码 code", "说明", "message"]


def build(error_frame: pl.DataFrame, *, row_count: int) -> dict:
    """The stored form of a report: counts per code and the first errors of each code, by row."""
    counts = dict(error_frame.group_by("code").len().sort("code").iter_rows()) if error_frame.height else {}
    kept = error_frame.filter(pl.int_range(pl.len()).over("code") < MAX_PER_CODE)
    return {
        "ok": error_frame.height == 0,
        "rows": row_count,
        "error_count": error_frame.height,
        "counts": counts,
        "truncated": kept.height < error_frame.height,
        "errors": kept.to_dicts(),
    }


def header_label(key: str, headers: dict[str, str] | None = None) -> str:
    """The column as the user named it (their file's header), else the English key."""
    return headers.get(key, key) if headers else key


def rendered(report: dict, headers: dict[str, str] | None = None) -> list[dict]:
    """Errors with their messages in Chinese and English."""
    out = []
    for e in report.get("errors", []):
        params = {
            "value": e.get("value") or "",
            "column": e.get("column") or "",
            "detail": e.get("detail") or "",
        }
        with translation.override("zh-hans"):
            zh = message(e["code"], **params)
        with translation.override("en"):
            en = message(e["code"], **params)
        out.append(
            {**e, "column": header_label(e.get("column") or "", headers), "message_zh": zh, "message_en": en}
        )
    return out


def _rows(report: dict, headers: dict[str, str] | None) -> Iterator[list[str]]:
    for e in rendered(report, headers):
        yield [
            "" if e.get("row") is None else str(e["row"]),
            e["column"],
            e.get("value") or "",
            e["code"],
            e["message_zh"],
            e["message_en"],
        ]


def csv_bytes(report: dict, headers: dict[str, str] | None = None) -> bytes:
    """UTF-8 with a byte-order mark, so Excel detects the encoding instead of guessing GBK."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REPORT_HEADERS)
    for row in _rows(report, headers):
        writer.writerow([neutralise(v) for v in row])
    writer.writerows(_summary(report))
    return (BOM + buffer.getvalue()).encode("utf-8")


def _summary(report: dict) -> Iterable[list[str]]:
    if report.get("truncated"):
        yield []
        yield [
            "",
            "",
            "",
            "total",
            f"每种错误只列出前 {MAX_PER_CODE} 条",
            f"only the first {MAX_PER_CODE} of each code are listed",
        ]
        for code, n in report.get("counts", {}).items():
            yield ["", "", "", code, str(n), str(n)]


def xlsx_bytes(report: dict, headers: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    # Strings stay strings: no formula, number or URL guessing by the writer either.
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    sheet = workbook.add_worksheet("错误 errors")
    bold = workbook.add_format({"bold": True})
    for c, header in enumerate(REPORT_HEADERS):
        sheet.write_string(0, c, header, bold)
    r = 0
    for r, row in enumerate([*_rows(report, headers), *_summary(report)], start=1):
        for c, value in enumerate(row):
            sheet.write_string(r, c, neutralise(value))
    for c, width in enumerate((8, 18, 24, 28, 50, 60)):
        sheet.set_column(c, c, width)
    sheet.freeze_panes(1, 0)
    counts = workbook.add_worksheet("汇总 summary")
    counts.write_string(0, 0, "错误代码 code", bold)
    counts.write_string(0, 1, "数量 count", bold)
    for i, (code, n) in enumerate(report.get("counts", {}).items(), start=1):
        counts.write_string(i, 0, code)
        counts.write_number(i, 1, n)
    workbook.close()
    return buffer.getvalue()
