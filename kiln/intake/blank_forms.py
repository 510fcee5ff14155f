"""Downloadable import templates: Chinese headers, example rows, and the item catalogue to pick from.

The sheet that is read (the first) holds only the headers: examples left in it by mistake would be
imported as the enterprise's real data. The examples sit on a sheet of their own.
"""

from __future__ import annotations

import csv
import io

import xlsxwriter

from kiln.engine import items, units
from kiln.intake import columns
from kiln.registry import credit_code

EXAMPLE_CODE = credit_code.make("9", "1", "330100", "MA2AAAAA0")
HEADERS = [c.chinese for c in columns.COLUMNS]
# One example of each common kind of row: a fuel, a gas in 10^4 Nm3, electricity, a measured parameter, a product.
EXAMPLES = [
    ["raw_coal", "12500", "t", "meter", "1号窑", ""],
    ["natural_gas", "36.2", "万Nm3", "invoice", "", ""],
    ["electricity_purchased", "8650", "MWh", "grid", "", ""],
    ["raw_coal.ncv", "20.9", "GJ/t", "lab", "1号窑", "CMA 报告编号 2024-031"],
    ["clinker_output", "98000", "t", "meter", "1号窑", ""],
]


def example_rows(code: str = EXAMPLE_CODE, period: str = "2024-03") -> list[list[str]]:
    return [
        [code, period, item, qty, unit, source, facility, note]
        for item, qty, unit, source, facility, note in EXAMPLES
    ]


def catalogue() -> list[list[str]]:
    """Every item and measured-parameter code with its names and canonical unit."""
    out = []
    for item in items.ITEMS.values():
        out.append([item.code, item.name_zh, item.name_en, item.unit, item.category])
        for parameter in item.parameters:
            zh, en = items.PARAMETERS[parameter]
            out.append(
                [
                    f"{item.code}.{parameter}",
                    f"{item.name_zh}{zh}",
                    f"{item.name_en} {en}",
                    items.parameter_unit(item.code, parameter),
                    "parameter",
                ]
            )
    return out


def csv_template() -> bytes:
    """The header row, as Excel's "CSV UTF-8" writes it (examples are on the XLSX template's second sheet)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerow(HEADERS)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_template(code: str = EXAMPLE_CODE) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    bold = workbook.add_format({"bold": True, "bg_color": "#EEEEEE"})
    text = workbook.add_format(
        {"num_format": "@"}
    )  # keeps codes and months as typed, not as numbers or dates

    for name, rows in (("月度活动数据", []), ("示例 example", example_rows(code))):
        sheet = workbook.add_worksheet(name)
        for c, column in enumerate(columns.COLUMNS):
            sheet.write_string(0, c, column.chinese, bold)
            sheet.write_comment(
                0, c, f"{column.key}: {column.label}" + (" (必填 required)" if column.required else "")
            )
            sheet.set_column(c, c, 22 if c == 0 else 14, text)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
        sheet.freeze_panes(1, 0)

    sheet = workbook.add_worksheet("项目代码 items")
    for c, header in enumerate(
        ["项目代码 code", "中文名称", "English name", "标准单位 unit", "类别 category"]
    ):
        sheet.write_string(0, c, header, bold)
    for r, row in enumerate(catalogue(), start=1):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 2, 30)
    sheet.freeze_panes(1, 0)

    spellings = workbook.add_worksheet("单位 units")
    for c, header in enumerate(["可填写 accepted", "即 means"]):
        spellings.write_string(0, c, header, bold)
    for r, (alias, normal) in enumerate(sorted((a, n) for a, n in units.ALIASES.items() if a), start=1):
        spellings.write_string(r, 0, alias)
        spellings.write_string(r, 1, normal or "")
    workbook.close()
    return buffer.getvalue()
