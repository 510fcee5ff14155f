"""Reading activity files and writing results (CSV, XLSX, Parquet), headers in English or Chinese.

CSV may be UTF-8, UTF-8 with BOM, or GBK/GB18030 (what Chinese Excel writes): the encoding is
detected. Every column is read as text and the engine parses quantities, so a bad cell becomes a
row-level error rather than a failed import. Pure: no Django.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path

import polars as pl

# Accepted header spellings (matched after removing spaces, "_", "-", "*" and case).
HEADERS = {
    "credit_code": ("credit_code", "统一社会信用代码", "信用代码"),
    "period": ("period", "月份", "期间", "统计期"),
    "item": ("item", "项目代码", "项目"),
    "quantity": ("quantity", "数量", "数值"),
    "unit": ("unit", "单位", "计量单位"),
    "source": ("source", "数据来源", "来源"),
    "facility": ("facility", "设施", "设施代码"),
    "note": ("note", "备注", "说明"),
}
EXCEL_MAX_ROWS = 1_048_576


class ReadError(ValueError):
    """The file cannot be read at all (unknown type, undecodable, no header row)."""


def _normal(text: str) -> str:
    return re.sub(r"[\s_\-*＊]", "", str(text)).casefold()


BY_SPELLING = {_normal(h): key for key, spellings in HEADERS.items() for h in spellings}


def decode(data: bytes) -> str:
    """Text of a CSV file: UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ReadError("the file is neither UTF-8 nor GBK/GB18030 text") from exc


def rename_headers(frame: pl.DataFrame) -> pl.DataFrame:
    """English or Chinese headers → the interchange column names; other columns are dropped."""
    mapping: dict[str, str] = {}
    for column in frame.columns:
        key = BY_SPELLING.get(_normal(column))
        if key and key not in mapping.values():
            mapping[column] = key
    return frame.select([pl.col(c).alias(k) for c, k in mapping.items()])


def _cell(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _read_excel(path: Path) -> pl.DataFrame:
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    rows = sheet.to_python(skip_empty_area=True)
    if not rows:
        raise ReadError("the first sheet is empty")
    header, body = [str(h).strip() for h in rows[0]], rows[1:]
    columns = {
        h or f"column_{i}": [_cell(r[i]) if i < len(r) else None for r in body] for i, h in enumerate(header)
    }
    return pl.DataFrame(columns, schema={c: pl.String for c in columns})


def read_activity(path: str | Path) -> pl.DataFrame:
    """Activity data from CSV, XLSX or Parquet with interchange column names."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        text = decode(path.read_bytes())
        try:
            frame = pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=True)
        except pl.exceptions.PolarsError as exc:
            raise ReadError(f"not a readable CSV file: {exc}") from exc
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        frame = _read_excel(path)
    elif suffix == ".parquet":
        frame = pl.read_parquet(path)
    else:
        raise ReadError(f"unsupported file type {suffix!r}: use .csv, .xlsx or .parquet")
    return rename_headers(frame)


def write_frame(frame: pl.DataFrame, path: str | Path) -> None:
    """Write by extension: .csv (UTF-8 with BOM, so Excel shows Chinese), .xlsx or .parquet."""
    path = Path(path)
    suffix = path.suffix.lower()
    text = frame.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String))
    if suffix == ".csv":
        text.write_csv(path, include_bom=True)
    elif suffix == ".xlsx":
        if frame.height >= EXCEL_MAX_ROWS:
            raise ReadError(f"{frame.height} rows do not fit in one Excel sheet: write .csv or .parquet")
        text.write_excel(path, autofit=False)
    elif suffix == ".parquet":
        frame.write_parquet(path)
    else:
        raise ReadError(f"unsupported output type {suffix!r}: use .csv, .xlsx or .parquet")
