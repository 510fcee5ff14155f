"""The columns of monthly activity data (DESIGN.md "Interchange formats"), in English and Chinese."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    key: str
    chinese: str
    label: object  # lazily translated description for pages and templates
    required: bool = False
    max_length: int | None = None
    aliases: tuple[str, ...] = ()  # further accepted spellings

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.key, self.chinese, *self.aliases)


COLUMNS = (
    Column(
        "credit_code",
        "统一社会信用代码",
        _("Unified social credit code"),
        required=True,
        aliases=("信用代码",),
    ),
    Column("period", "月份", _("Month (YYYY-MM)"), required=True, aliases=("期间", "统计期")),
    Column("item", "项目代码", _("Item code (see the item sheet)"), required=True, aliases=("项目",)),
    Column("quantity", "数量", _("Quantity (≥ 0)"), required=True, aliases=("数值",)),
    Column("unit", "单位", _("Unit"), required=True, aliases=("计量单位",)),
    Column("source", "数据来源", _("Data source: meter, invoice, lab, estimate or grid"), aliases=("来源",)),
    Column("facility", "设施", _("Facility (optional)"), max_length=80, aliases=("设施代码",)),
    Column("note", "备注", _("Note (optional)"), max_length=500, aliases=("说明",)),
)
KEYS = tuple(c.key for c in COLUMNS)
BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED = tuple(c.key for c in COLUMNS if c.required)


def normalise_header(text: str) -> str:
    # "Credit Code", "credit-code", "统一社会信用代码*" (an asterisk marks required columns) all match.
    return re.sub(r"[\s_\-*＊]", "", str(text)).casefold()


BY_SPELLING = {normalise_header(h): c.key for c in COLUMNS for h in c.headers}
