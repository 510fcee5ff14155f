"""The columns of each registry import, with the English and Chinese headers accepted for them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kiln.registry import errors
from kiln.registry.errors import RowError


@dataclass(frozen=True)
class Column:
    key: str
    headers: tuple[str, ...]  # accepted spellings: the English key first, then Chinese
    label: str | Promise  # what the import page shows
    required: bool = False
    max_length: int | None = None

    @property
    def chinese(self) -> str:
        return self.headers[1]


ENTERPRISE_COLUMNS = (
    Column(
        "credit_code", ("credit_code", "统一社会信用代码"), _("Unified social credit code"), required=True
    ),
    Column("name", ("name", "企业名称"), _("Name"), required=True, max_length=200),
    Column("name_en", ("name_en", "英文名称"), _("English name"), max_length=200),
    Column("region_code", ("region_code", "行政区划代码"), _("Administrative division code"), required=True),
    Column(
        "industry_code", ("industry_code", "行业代码"), _("Industry code (GB/T 4754-2017)"), required=True
    ),
    Column("size", ("size", "企业规模"), _("Size: large, medium, small or micro")),
    Column("key_emitter", ("key_emitter", "重点排放单位"), _("Key emitter: true or false")),
    Column("address", ("address", "地址"), _("Address"), max_length=300),
)

REGION_COLUMNS = (
    Column(
        "code", ("code", "代码", "行政区划代码"), _("Administrative division code (GB/T 2260)"), required=True
    ),
    Column("name", ("name", "名称"), _("Name"), required=True, max_length=200),
    Column("name_en", ("name_en", "英文名称"), _("English name"), max_length=200),
    Column(
        "level",
        ("level", "级别", "层级"),
        _("Level: 0 nation, 1 province, 2 city, 3 county (inferred if empty)"),
    ),
    Column("parent_code", ("parent_code", "上级代码"), _("Parent code (inferred if empty)")),
)

INDUSTRY_COLUMNS = (
    Column("code", ("code", "代码", "行业代码"), _("Industry code, e.g. C3011"), required=True),
    Column("name", ("name", "名称"), _("Name"), required=True, max_length=200),
    Column("name_en", ("name_en", "英文名称"), _("English name"), max_length=200),
    Column(
        "level",
        ("level", "级别", "层级"),
        _("Level: 0 section, 1 division, 2 group, 3 class (inferred if empty)"),
    ),
    Column("parent_code", ("parent_code", "上级代码"), _("Parent code (inferred if empty)")),
    Column(
        "ets_sector",
        ("ets_sector", "全国碳市场行业"),
        _("National ETS sector: power, steel, cement, aluminium"),
    ),
)


def _normalise_header(text: str) -> str:
    # "Credit Code", "credit-code", "统一社会信用代码*" (asterisk marking a required column) all match.
    return re.sub(r"[\s_\-*＊]", "", text).casefold()


@dataclass
class ColumnMap:
    """Where each known column sits in the file, and what the user called it."""

    index: dict[str, int]
    header: dict[str, str]

    def cell(self, cells: list[str], key: str) -> str | None:
        """The cell for ``key`` in a row, or ``None`` when the file has no such column."""
        i = self.index.get(key)
        if i is None:
            return None
        return cells[i] if i < len(cells) else ""


def map_columns(
    headers: list[str], columns: tuple[Column, ...], header_row: int = 1
) -> tuple[ColumnMap, list[RowError]]:
    """Match the file's headers to ``columns``. Unknown columns (序号, notes ...) are ignored."""
    by_spelling = {_normalise_header(h): col for col in columns for h in col.headers}
    index: dict[str, int] = {}
    header: dict[str, str] = {}
    problems: list[RowError] = []
    for i, text in enumerate(headers):
        col = by_spelling.get(_normalise_header(text))
        if col is None:
            continue
        if col.key in index:
            problems.append(RowError(errors.HEADER_DUPLICATE, row=header_row, column=text, value=text))
            continue
        index[col.key] = i
        header[col.key] = text
    for col in columns:
        if col.required and col.key not in index:
            problems.append(
                RowError(
                    errors.HEADER_MISSING,
                    row=header_row,
                    column=col.key,
                    params={"accepted": " / ".join(col.headers)},
                )
            )
    return ColumnMap(index=index, header=header), problems
