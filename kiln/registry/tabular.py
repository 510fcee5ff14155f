"""Read an uploaded CSV or spreadsheet into rows of strings, whatever Excel saved it as.

Chinese Excel writes CSV in GBK unless told otherwise, newer versions write UTF-8 with
a byte-order mark, and "Unicode text" is tab-separated UTF-16. Spreadsheets (.xlsx,
.xls, .ods) are read with calamine, which does not evaluate formulas: a formula cell
yields its cached value or nothing.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from python_calamine import CalamineError, CalamineWorkbook

from kiln.registry import errors
from kiln.registry.errors import RowError

ZIP_MAGIC = b"PK\x03\x04"  # xlsx, ods
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy xls
DELIMITERS = ",\t;"


@dataclass
class Table:
    headers: list[str]
    # (row number as the user sees it, cells); blank rows are dropped but keep their numbers
    rows: list[tuple[int, list[str]]]
    source_format: str  # "xlsx", "csv (UTF-8)", "csv (GB18030)" ...
    header_row: int = 1  # later than 1 only when blank rows precede the header


class UnreadableTable(Exception):
    def __init__(self, error: RowError):
        super().__init__(error.code)
        self.error = error


def read_table(data: bytes, *, max_bytes: int | None = None) -> Table:
    """Parse ``data`` as a spreadsheet or delimited text; raise ``UnreadableTable`` if it cannot be."""
    if max_bytes is not None and len(data) > max_bytes:
        raise UnreadableTable(
            RowError(errors.FILE_TOO_LARGE, params={"limit_mb": max_bytes // (1024 * 1024)})
        )
    if not data.strip():
        raise UnreadableTable(RowError(errors.FILE_EMPTY))
    if data.startswith((ZIP_MAGIC, OLE_MAGIC)):
        raw, source = _spreadsheet_rows(data), "xlsx" if data.startswith(ZIP_MAGIC) else "xls"
    else:
        text, encoding = _decode(data)
        raw, source = _csv_rows(text), f"csv ({encoding})"
    numbered = [(i, row) for i, row in enumerate(raw, start=1) if any(row)]
    if len(numbered) < 2:
        raise UnreadableTable(RowError(errors.FILE_EMPTY))
    (header_row, headers), body = numbered[0], numbered[1:]
    return Table(headers=headers, rows=body, source_format=source, header_row=header_row)


def _decode(data: bytes) -> tuple[str, str]:
    """Decode text, trying what Chinese office software actually writes, strictest first."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8"), "UTF-8 BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    # GB18030 is a superset of GBK and GB2312; it is what "ANSI" means on Chinese Windows.
    return _strict(data, "gb18030"), "GB18030"


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableTable(RowError(errors.FILE_UNREADABLE)) from exc


def _csv_rows(text: str) -> list[list[str]]:
    if "\x00" in text:
        raise UnreadableTable(RowError(errors.FILE_UNREADABLE))
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [[cell.strip() for cell in row] for row in reader]
    except csv.Error as exc:
        raise UnreadableTable(RowError(errors.FILE_UNREADABLE)) from exc


def _spreadsheet_rows(data: bytes) -> list[list[str]]:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        # The first sheet; keep leading blank rows so row numbers match what Excel shows.
        values = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as exc:
        raise UnreadableTable(RowError(errors.FILE_UNREADABLE)) from exc
    return [[_cell_text(v) for v in row] for row in values]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # codes typed as numbers: 330100.0 → "330100"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip()
