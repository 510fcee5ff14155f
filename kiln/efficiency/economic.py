"""Economic data (DESIGN.md "Economic data"): reading and checking a file, one row per enterprise-year.

``credit_code, year, value_added_10k_cny, output_value_10k_cny`` with English or Chinese headers
(统一社会信用代码, 年份, 工业增加值（万元）, 工业总产值（万元）). The registry's readers
(CSV in UTF-8/GBK, XLSX), header matching and row reader are reused; nothing here writes.

Value added may be zero or negative (an enterprise can make a loss): it is stored as reported and
the grading then says why there is no grade. Output value, when given, is at least zero.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kiln.efficiency import errors
from kiln.registry import credit_code
from kiln.registry import errors as reg_errors
from kiln.registry.columns import Column, map_columns
from kiln.registry.errors import RowError
from kiln.registry.models import Enterprise
from kiln.registry.tabular import Table
from kiln.registry.validation import RowReader, as_code, chunks

ECONOMIC_COLUMNS = (
    Column(
        "credit_code", ("credit_code", "统一社会信用代码"), _("Unified social credit code"), required=True
    ),
    Column("year", ("year", "年份", "年度"), _("Year (YYYY)"), required=True),
    Column(
        "value_added_10k_cny",
        ("value_added_10k_cny", "工业增加值（万元）", "工业增加值(万元)", "工业增加值"),
        _("Industrial value added, 10^4 CNY (income approach)"),
        required=True,
    ),
    Column(
        "output_value_10k_cny",
        ("output_value_10k_cny", "工业总产值（万元）", "工业总产值(万元)", "工业总产值"),
        _("Industrial output value, 10^4 CNY (optional)"),
    ),
)
# The headers our own exports and templates write: Chinese, as the statistics office's forms.
CHINESE_HEADERS = [c.chinese for c in ECONOMIC_COLUMNS]

FIRST_YEAR = 2000
PLACES = Decimal("0.0001")
LIMIT = Decimal("1e13")  # 10^4 CNY: far above any enterprise, well inside the column's 18 digits


@dataclass(frozen=True)
class EconomicRow:
    row: int
    enterprise_id: int
    credit_code: str
    year: int
    value_added: Decimal
    output_value: Decimal | None


def parse_number(text: str) -> Decimal | None:
    """A decimal as typed in Chinese office software: full-width digits, thousands separators."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "").replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= LIMIT:
        return None
    return value.quantize(PLACES)


def validate_economic(
    table: Table, *, scope: QuerySet[Enterprise] | None, this_year: int
) -> tuple[list[EconomicRow], list[RowError]]:
    """Check every row; ``scope``: the enterprises the importer may report for (``None``: all)."""
    cmap, problems = map_columns(table.headers, ECONOMIC_COLUMNS, header_row=table.header_row)
    if problems:
        return [], problems
    code_index = cmap.index["credit_code"]
    file_codes = sorted(
        {as_code(cells[code_index]) for _, cells in table.rows if code_index < len(cells)} - {""}
    )
    allowed = scope if scope is not None else Enterprise.objects.all()
    known: dict[str, int] = {}
    for chunk in chunks(file_codes):
        for code, pk in allowed.filter(credit_code__in=chunk).values_list("credit_code", "pk"):
            if code:
                known[code] = pk

    records: list[EconomicRow] = []
    seen: dict[tuple[str, int], int] = {}
    for number, cells in table.rows:
        r = RowReader(number, cells, cmap, ECONOMIC_COLUMNS, problems)
        code = as_code(r.text("credit_code") or "")
        if code:
            problem = credit_code.problem(code)
            if problem:
                r.error(reg_errors.CREDIT_CODE_PROBLEMS[problem], "credit_code", code, length=len(code))
            elif code not in known:
                # Unknown and out of scope read the same: an importer learns nothing about others.
                r.error(errors.ENTERPRISE_UNKNOWN, "credit_code", code)
        year_text = as_code(r.text("year") or "")
        year = None
        if year_text:
            # "2024", "2024.0" (a number cell), "2024年"
            digits = year_text.removesuffix("年").removesuffix(".0")
            if len(digits) == 4 and digits.isdigit() and int(digits) >= FIRST_YEAR:
                year = int(digits)
                if year > this_year:
                    r.error(errors.YEAR_IN_FUTURE, "year", year_text)
            else:
                r.error(errors.YEAR_INVALID, "year", year_text)
        value_added = _number(r, "value_added_10k_cny")
        output_value = _number(r, "output_value_10k_cny")
        if output_value is not None and output_value < 0:
            r.error(errors.OUTPUT_NEGATIVE, "output_value_10k_cny", r.text("output_value_10k_cny") or "")
        if code and year is not None and not r.failed:
            first = seen.setdefault((code, year), number)
            if first != number:
                r.error(errors.DUPLICATE_IN_FILE, "year", str(year), first_row=first)
        if r.failed:
            continue
        assert year is not None and value_added is not None
        records.append(
            EconomicRow(
                row=number,
                enterprise_id=known[code],
                credit_code=code,
                year=year,
                value_added=value_added,
                output_value=output_value,
            )
        )
    return records, problems


def _number(r: RowReader, key: str) -> Decimal | None:
    text = r.text(key)
    if not text:
        return None
    value = parse_number(text)
    if value is None:
        r.error(errors.NUMBER_INVALID, key, text)
    return value
