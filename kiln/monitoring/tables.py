"""Sortable, paged tables that render as HTML (htmx partials) and export as CSV or XLSX.

Each table reads its own URL parameters, ``<name>_sort`` (a column key, ``-`` first for
descending) and ``<name>_page``; an unknown column or a page past the end is 404, like any
other parameter out of range. Small tables hold their rows; large ones (enterprise rankings)
fetch one page from a sorted queryset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, QueryDict
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kiln.monitoring import formatting

PER_PAGE = 20
EXPORT_LIMIT = 100_000


@dataclass
class Column:
    key: str
    label: Any  # lazy translation
    kind: str = "number"  # number | percent (a signed change) | share (a part of a whole) | text | code
    decimals: int = 0
    sortable: bool = True
    link: str = ""  # row key holding this cell's URL
    state: str = ""  # row key holding a state word, shown as the cell's class state-<word>

    @property
    def numeric(self) -> bool:
        return self.kind in ("number", "percent", "share")

    @property
    def css(self) -> str:
        return {"number": "num", "share": "num", "percent": "num change", "code": "mono"}.get(self.kind, "")


@dataclass
class Header:
    column: Column
    url: str = ""
    sorted: str = ""  # "", "asc" or "desc"


@dataclass
class Table:
    name: str
    title: Any
    columns: list[Column]
    rows: Sequence[dict] | None = None
    # fetch(order_by, offset, limit) -> rows; count() -> total, for tables too big to hold.
    fetch: Callable[[str, int, int], list[dict]] | None = None
    count: Callable[[], int] | None = None
    default_sort: str = ""
    per_page: int = PER_PAGE
    empty: Any = ""
    note: Any = ""
    # Set by bind():
    sort: str = ""
    page: int = 1
    total: int = 0
    page_rows: list[dict] = field(default_factory=list)
    headers: list[Header] = field(default_factory=list)
    pages: int = 1
    base_query: str = ""
    previous_url: str = ""
    next_url: str = ""
    export_csv: str = ""
    export_xlsx: str = ""

    @property
    def sort_key(self) -> str:
        return f"{self.name}_sort"

    @property
    def page_key(self) -> str:
        return f"{self.name}_page"

    def _sortable(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key and column.sortable:
                return column
        raise Http404

    def bind(self, params: QueryDict, path: str) -> Table:
        """Read this table's sort and page from ``params``; build header, pager and export links."""
        self.sort = params.get(self.sort_key) or self.default_sort
        if self.sort:
            self._sortable(self.sort.lstrip("-"))
        raw_page = params.get(self.page_key) or "1"
        if not raw_page.isdigit() or int(raw_page) < 1:
            raise Http404
        self.page = int(raw_page)
        self.total = self.count() if self.count else len(self.rows or [])
        self.pages = max(1, -(-self.total // self.per_page))
        if self.page > self.pages:
            raise Http404
        offset = (self.page - 1) * self.per_page
        self.page_rows = self._rows(offset, self.per_page)

        def link(**changes) -> str:
            query = params.copy()
            for key in ("partial", "table", "export", "format"):
                query.pop(key, None)
            for key, value in changes.items():
                query.pop(key, None)
                if value not in (None, ""):
                    query[key] = value
            encoded = query.urlencode()
            return f"{path}?{encoded}" if encoded else path

        self.headers = []
        for column in self.columns:
            if not column.sortable:
                self.headers.append(Header(column))
                continue
            current = self.sort.lstrip("-") == column.key
            descending = self.sort.startswith("-")
            # Numbers sort largest first on the first click, text A to Z.
            first = f"-{column.key}" if column.numeric else column.key
            target = (column.key if descending else f"-{column.key}") if current else first
            state = ("desc" if descending else "asc") if current else ""
            self.headers.append(Header(column, link(**{self.sort_key: target, self.page_key: None}), state))
        if self.page > 1:
            self.previous_url = link(**{self.page_key: self.page - 1})
        if self.page < self.pages:
            self.next_url = link(**{self.page_key: self.page + 1})
        self.export_csv = link(export=self.name, format="csv")
        self.export_xlsx = link(export=self.name, format="xlsx")
        return self

    def _rows(self, offset: int, limit: int) -> list[dict]:
        if self.fetch is not None:
            return self.fetch(self.sort, offset, limit)
        rows = list(self.rows or [])
        if self.sort:
            key = self.sort.lstrip("-")
            column = self._sortable(key)
            missing = [r for r in rows if r.get(key) is None]
            present = [r for r in rows if r.get(key) is not None]
            present.sort(
                key=(lambda r: r[key]) if column.numeric else (lambda r: str(r[key])),
                reverse=self.sort.startswith("-"),
            )
            rows = present + missing
        return rows[offset : offset + limit]

    def all_rows(self) -> list[dict]:
        """Every row in the current order, for exports."""
        return self._rows(0, EXPORT_LIMIT)

    def cells(self, row: dict) -> list[tuple[Column, Any, str]]:
        return [(c, row.get(c.key), row.get(c.link, "") if c.link else "") for c in self.columns]

    @property
    def body(self) -> list[list[tuple[Column, Any, str]]]:
        return [self.cells(r) for r in self.page_rows]

    @property
    def html_rows(self) -> list[SafeString]:
        """The page's rows as ``<tr>`` HTML, built here: a template loop over every cell is ten times slower."""
        out = []
        for row in self.page_rows:
            cells = []
            for column in self.columns:
                value = row.get(column.key)
                text = escape(formatting.cell(value, column.kind, column.decimals))
                css = column.css + (" " + formatting.trend(value) if column.kind == "percent" else "")
                if column.state and row.get(column.state):
                    css += f" state-{escape(row[column.state])}"
                link = row.get(column.link) if column.link else ""
                if link:
                    text = f'<a href="{escape(link)}">{text}</a>'
                cells.append(f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>")
            out.append(mark_safe("<tr>" + "".join(cells) + "</tr>"))  # noqa: S308 - every part escaped above
        return out


def change(current: float | None, before: float | None) -> float | None:
    """Relative change (0.05 = +5 %); ``None`` when there is nothing to compare with."""
    if current is None or before is None or before == 0:
        return None
    return (current - before) / abs(before)
