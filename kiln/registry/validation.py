"""Row-level validation of registry imports: a table in, clean records and every error out.

Nothing here writes. Lookups are fetched once per file into dicts, so validating tens of
thousands of rows costs a handful of queries. Every error carries the row number the user
sees, the column header they wrote, the offending value and a stable code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kiln.registry import credit_code, errors
from kiln.registry.columns import (
    ENTERPRISE_COLUMNS,
    INDUSTRY_COLUMNS,
    REGION_COLUMNS,
    Column,
    ColumnMap,
    map_columns,
)
from kiln.registry.errors import RowError
from kiln.registry.models import Enterprise, Industry, Organisation, Region
from kiln.registry.tabular import Table

# SQLite caps the number of bound parameters; stay well below it on every backend.
IN_CHUNK = 900

SIZES = {
    "large": Enterprise.Size.LARGE,
    "大型": Enterprise.Size.LARGE,
    "大型企业": Enterprise.Size.LARGE,
    "medium": Enterprise.Size.MEDIUM,
    "中型": Enterprise.Size.MEDIUM,
    "中型企业": Enterprise.Size.MEDIUM,
    "small": Enterprise.Size.SMALL,
    "小型": Enterprise.Size.SMALL,
    "小型企业": Enterprise.Size.SMALL,
    "micro": Enterprise.Size.MICRO,
    "微型": Enterprise.Size.MICRO,
    "微型企业": Enterprise.Size.MICRO,
}
TRUE_WORDS = {"true", "t", "yes", "y", "1", "是"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "否"}
ETS_SECTORS = {
    "": "",
    "power": "power",
    "发电": "power",
    "电力": "power",
    "steel": "steel",
    "钢铁": "steel",
    "cement": "cement",
    "水泥": "cement",
    "aluminium": "aluminium",
    "aluminum": "aluminium",
    "铝冶炼": "aluminium",
    "电解铝": "aluminium",
}
REGION_CODE = re.compile(r"^\d{6}$")
INDUSTRY_CODE = re.compile(r"^[A-T](\d{2}|\d{3}|\d{4})?$")
INDUSTRY_LEVEL_BY_LENGTH = {1: 0, 3: 1, 4: 2, 5: 3}
NATION = "000000"
# Our own export prefixes a quote to cells that a spreadsheet would run as a formula; undo it.
ESCAPED_FORMULA = re.compile(r"^'[=+\-@\t\r]")


def chunks(values: list, size: int = IN_CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def as_code(text: str) -> str:
    """Codes typed on a Chinese keyboard may come in full width (９１３３…) or lower case."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def unescape(text: str) -> str:
    return text[1:] if ESCAPED_FORMULA.match(text) else text


class RowReader:
    """Reads one row's cells by column key and records the row's errors."""

    def __init__(
        self, number: int, cells: list[str], cmap: ColumnMap, columns: Iterable[Column], sink: list[RowError]
    ):
        self.number = number
        self.cells = cells
        self.cmap = cmap
        self.columns = {c.key: c for c in columns}
        self.sink = sink
        self.failed = False

    def error(self, code: str, key: str, value: str = "", **params) -> None:
        header = self.cmap.header.get(key, key)
        self.sink.append(RowError(code, row=self.number, column=header, value=value, params=params))
        self.failed = True

    def text(self, key: str) -> str | None:
        """The cell's text, ``None`` if the file has no such column; checks required and length."""
        raw = self.cmap.cell(self.cells, key)
        if raw is None:
            return None
        value = unescape(raw.strip())
        column = self.columns[key]
        if column.required and not value:
            self.error(errors.REQUIRED, key)
        elif column.max_length and len(value) > column.max_length:
            self.error(errors.TOO_LONG, key, value, max_length=column.max_length)
        return value

    def level(self, key: str = "level") -> int | None:
        """An explicit level 0–3, or ``None`` when empty (to be inferred) or invalid (error recorded)."""
        raw = self.text(key) or ""
        if not raw:
            return None
        if raw not in {"0", "1", "2", "3"}:
            self.error(errors.LEVEL_INVALID, key, raw)
            return None
        return int(raw)


def _map_columns(table: Table, columns: tuple[Column, ...]) -> tuple[ColumnMap, list[RowError]]:
    return map_columns(table.headers, columns, header_row=table.header_row)


def _duplicate_checker():
    """Track codes already seen in the file and report repeats against the first row."""
    seen: dict[str, int] = {}

    def check(reader: RowReader, key: str, code: str) -> bool:
        if code in seen:
            reader.error(errors.DUPLICATE_IN_FILE, key, code, first_row=seen[code])
            return False
        seen[code] = reader.number
        return True

    return check


# --- enterprises ---------------------------------------------------------------------------------------


@dataclass
class EnterpriseRecord:
    """A valid enterprise row. ``None`` in an optional field: keep what is stored (or the default when new)."""

    row: int
    credit_code: str
    name: str
    name_en: str | None
    region_id: int
    industry_id: int
    size: str | None
    key_emitter: bool | None
    address: str | None
    existing_id: int | None


def industry_index() -> dict[str, int]:
    """Industry ids by code, also by bare digits ("3011" → C3011): divisions are unique across sections."""
    index: dict[str, int] = {}
    for code, pk in Industry.objects.values_list("code", "id"):
        index[code] = pk
        if len(code) > 1:
            index.setdefault(code[1:], pk)
    return index


def validate_enterprises(table: Table) -> tuple[list[EnterpriseRecord], list[RowError]]:
    cmap, problems = _map_columns(table, ENTERPRISE_COLUMNS)
    if problems:
        return [], problems
    region_ids = dict(Region.objects.values_list("code", "id"))
    industry_ids = industry_index()
    code_index = cmap.index["credit_code"]
    file_codes = sorted(
        {as_code(cells[code_index]) for _, cells in table.rows if code_index < len(cells)} - {""}
    )
    # credit code → (organisation id, name, is an enterprise). Judge by the enterprise table, not
    # Organisation.kind, so a row whose kind was never set is still recognised (and repaired on update).
    organisations: dict[str, tuple[int, str, bool]] = {}
    for chunk in chunks(file_codes):
        enterprise_ids = set(Enterprise.objects.filter(credit_code__in=chunk).values_list("pk", flat=True))
        for org_id, code, name in Organisation.objects.filter(credit_code__in=chunk).values_list(
            "id", "credit_code", "name"
        ):
            if code:
                organisations[code] = (org_id, name, org_id in enterprise_ids)

    records: list[EnterpriseRecord] = []
    first_seen = _duplicate_checker()
    for number, cells in table.rows:
        r = RowReader(number, cells, cmap, ENTERPRISE_COLUMNS, problems)
        code = as_code(r.text("credit_code") or "")
        existing_id = None
        if code:
            reason = credit_code.problem(code)
            if reason:
                r.error(errors.CREDIT_CODE_PROBLEMS[reason], "credit_code", code, length=len(code))
            elif first_seen(r, "credit_code", code) and code in organisations:
                org_id, org_name, is_enterprise = organisations[code]
                if not is_enterprise:
                    r.error(errors.CREDIT_TAKEN, "credit_code", code, name=org_name)
                existing_id = org_id
        name = r.text("name") or ""
        name_en = r.text("name_en") or None
        address = r.text("address") or None

        region_code = as_code(r.text("region_code") or "")
        region_id = region_ids.get(region_code)
        if region_code and region_id is None:
            r.error(errors.REGION_UNKNOWN, "region_code", region_code)

        industry_code = as_code(r.text("industry_code") or "")
        industry_id = industry_ids.get(industry_code)
        if industry_code and industry_id is None:
            r.error(errors.INDUSTRY_UNKNOWN, "industry_code", industry_code)

        size = None
        raw_size = (r.text("size") or "").strip()
        if raw_size:
            size = SIZES.get(raw_size.casefold())
            if size is None:
                r.error(errors.SIZE_INVALID, "size", raw_size)

        key_emitter = None
        raw_flag = as_code(r.text("key_emitter") or "").casefold()
        if raw_flag:
            if raw_flag in TRUE_WORDS:
                key_emitter = True
            elif raw_flag in FALSE_WORDS:
                key_emitter = False
            else:
                r.error(errors.BOOLEAN_INVALID, "key_emitter", raw_flag)

        if not r.failed:
            assert region_id is not None and industry_id is not None
            records.append(
                EnterpriseRecord(
                    row=number,
                    credit_code=code,
                    name=name,
                    name_en=name_en,
                    region_id=region_id,
                    industry_id=industry_id,
                    size=size,
                    key_emitter=key_emitter,
                    address=address,
                    existing_id=existing_id,
                )
            )
    return records, problems


# --- regions and industries ----------------------------------------------------------------------------


@dataclass
class TreeRecord:
    """A valid region or industry row. ``None`` in name_en / ets_sector: the file has no such column."""

    row: int
    code: str
    name: str
    name_en: str | None
    level: int
    parent_code: str | None
    ets_sector: str | None = None


def region_level_from_code(code: str) -> int:
    """GB/T 2260 codes say their level: 330000 province, 330100 city, 330102 county."""
    if code == NATION:
        return Region.Level.NATION
    if code.endswith("0000"):
        return Region.Level.PROVINCE
    if code.endswith("00"):
        return Region.Level.CITY
    return Region.Level.COUNTY


def region_parent_from_code(code: str, level: int) -> str | None:
    return {0: None, 1: NATION, 2: code[:2] + "0000", 3: code[:4] + "00"}[level]


def _check_parents(
    records: list[TreeRecord], readers: dict[int, RowReader], known_levels: dict[str, int]
) -> list[TreeRecord]:
    """Every parent must exist (in the file or the registry) on a higher level; keep the rows that pass."""
    levels = {**known_levels, **{rec.code: rec.level for rec in records}}
    kept = []
    for rec in records:
        r = readers[rec.row]
        if rec.parent_code is not None:
            parent_level = levels.get(rec.parent_code)
            if parent_level is None:
                r.error(errors.PARENT_UNKNOWN, "parent_code", rec.parent_code)
            elif parent_level >= rec.level:
                r.error(errors.PARENT_LEVEL, "parent_code", rec.parent_code)
        if not r.failed:
            kept.append(rec)
    return kept


def validate_regions(table: Table) -> tuple[list[TreeRecord], list[RowError]]:
    cmap, problems = _map_columns(table, REGION_COLUMNS)
    if problems:
        return [], problems
    known_levels = dict(Region.objects.values_list("code", "level"))
    first_seen = _duplicate_checker()
    records, readers = [], {}
    for number, cells in table.rows:
        r = readers[number] = RowReader(number, cells, cmap, REGION_COLUMNS, problems)
        code = as_code(r.text("code") or "")
        if code and not REGION_CODE.match(code):
            r.error(errors.REGION_CODE_INVALID, "code", code)
        elif code:
            first_seen(r, "code", code)
        name = r.text("name") or ""
        name_en = r.text("name_en")
        level = r.level()
        if r.failed:
            continue
        if level is None:
            level = region_level_from_code(code)
        parent = as_code(r.text("parent_code") or "") or None
        if level == Region.Level.NATION and parent:
            r.error(errors.PARENT_UNEXPECTED, "parent_code", parent)
            continue
        if level > Region.Level.NATION and parent is None:
            parent = region_parent_from_code(code, level)
        records.append(
            TreeRecord(row=number, code=code, name=name, name_en=name_en, level=level, parent_code=parent)
        )
    return _check_parents(records, readers, known_levels), problems


def validate_industries(table: Table) -> tuple[list[TreeRecord], list[RowError]]:
    cmap, problems = _map_columns(table, INDUSTRY_COLUMNS)
    if problems:
        return [], problems
    known_levels = dict(Industry.objects.values_list("code", "level"))
    file_codes = {
        as_code(cells[cmap.index["code"]]) for _, cells in table.rows if cmap.index["code"] < len(cells)
    }
    first_seen = _duplicate_checker()
    records, readers = [], {}
    for number, cells in table.rows:
        r = readers[number] = RowReader(number, cells, cmap, INDUSTRY_COLUMNS, problems)
        code = as_code(r.text("code") or "")
        if code and not INDUSTRY_CODE.match(code):
            r.error(errors.INDUSTRY_CODE_INVALID, "code", code)
        elif code:
            first_seen(r, "code", code)
        name = r.text("name") or ""
        name_en = r.text("name_en")
        level = r.level()
        ets_raw = r.text("ets_sector")
        ets_sector = None
        if ets_raw is not None:
            ets_sector = ETS_SECTORS.get(ets_raw.casefold())
            if ets_sector is None:
                r.error(errors.ETS_SECTOR_INVALID, "ets_sector", ets_raw)
        if r.failed:
            continue
        expected = INDUSTRY_LEVEL_BY_LENGTH[len(code)]
        if level is not None and level != expected:
            r.error(errors.LEVEL_MISMATCH, "level", str(level), industry_code=code, expected=expected)
            continue
        parent = as_code(r.text("parent_code") or "") or None
        if expected == Industry.Level.SECTION:
            if parent:
                r.error(errors.PARENT_UNEXPECTED, "parent_code", parent)
                continue
        elif parent is None:
            # The nearest ancestor present: a class may hang straight under its division.
            prefixes = [code[:n] for n in (4, 3, 1) if n < len(code)]
            parent = next((p for p in prefixes if p in file_codes or p in known_levels), prefixes[-1])
        elif not (code.startswith(parent) and len(parent) < len(code)):
            r.error(errors.PARENT_MISMATCH, "parent_code", parent)
            continue
        records.append(
            TreeRecord(
                row=number,
                code=code,
                name=name,
                name_en=name_en,
                level=expected,
                parent_code=parent,
                ets_sector=ets_sector,
            )
        )
    return _check_parents(records, readers, known_levels), problems
