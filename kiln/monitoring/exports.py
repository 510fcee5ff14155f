"""Every portal table as CSV (UTF-8 with BOM, so Excel detects it) or XLSX.

Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage
return) get a leading single quote (CSV/formula injection); numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import math

import xlsxwriter
from django.http import HttpResponse
from django.utils.http import content_disposition_header

from kiln.monitoring.tables import Table
from kiln.registry.exports import neutralise

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def _number(value) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rounded(value, decimals: int):
    return round(value, max(decimals, 3)) if isinstance(value, float) else value


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([neutralise(str(c.label)) for c in table.columns])
    for row in table.all_rows():
        cells = []
        for column in table.columns:
            value = row.get(column.key)
            number = _number(value)
            cells.append(repr(_rounded(number, column.decimals)) if number is not None else neutralise(value))
        writer.writerow(cells)
    return out.getvalue().encode("utf-8")


def table_xlsx(table: Table) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    sheet = workbook.add_worksheet(neutralise(str(table.title))[:31] or "Sheet1")
    bold = workbook.add_format({"bold": True})
    formats = {
        "number": workbook.add_format({"num_format": "#,##0.000"}),
        "percent": workbook.add_format({"num_format": "+0.0%;-0.0%;0.0%"}),
        "share": workbook.add_format({"num_format": "0.00%"}),
    }
    widths = []
    for col, column in enumerate(table.columns):
        label = neutralise(str(column.label))
        sheet.write_string(0, col, label, bold)
        widths.append(len(label) * 2 + 2)
    for r, row in enumerate(table.all_rows(), start=1):
        for col, column in enumerate(table.columns):
            value = row.get(column.key)
            number = _number(value)
            if number is not None:
                sheet.write_number(r, col, number, formats.get(column.kind, formats["number"]))
                width = 14
            else:
                text = neutralise(value)
                sheet.write_string(r, col, text)
                width = len(text) + 2
            widths[col] = min(60, max(widths[col], width))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


def response(table: Table, fmt: str, filename: str) -> HttpResponse:
    if fmt == "xlsx":
        reply = HttpResponse(table_xlsx(table), content_type=XLSX_TYPE)
    else:
        reply = HttpResponse(table_csv(table), content_type=CSV_TYPE)
    reply["Content-Disposition"] = content_disposition_header(True, f"{filename}.{fmt}")
    return reply
