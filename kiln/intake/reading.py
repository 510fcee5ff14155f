"""Read an uploaded CSV or XLSX file into a Polars frame of strings, whatever Excel saved it as.

The result has one String column per known column key (``credit_code``, ``period`` …;
absent optional columns are filled with "") and ``_row``, the row number the user sees
in their spreadsheet. Blank rows are dropped but keep their numbers. Unknown columns
are ignored.

Chinese Excel writes CSV in GBK ("ANSI") unless told otherwise; newer versions write UTF-8
with a byte-order mark. A file that is partly UTF-8 and partly GBK (two exports pasted
together) is refused rather than guessed. Workbooks are checked for zip bombs before
python-calamine reads them; calamine never evaluates formulas, and formula cells are
reported (``INT-CELL-FORMULA``) instead of being read as their cached value.
Workbooks are read by fastexcel (calamine in Rust, straight into Arrow columns).
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field

import fastexcel
import polars as pl
from django.conf import settings
from python_calamine import CalamineError, CalamineWorkbook

from kiln.intake import columns, errors, filetypes, zipguard
from kiln.intake.errors import FileProblem

UTF8_BOM = b"\xef\xbb\xbf"
DELIMITERS = ",\t;"


@dataclass
class Table:
    frame: pl.DataFrame  # _row (Int64) + one String column per key in columns.KEYS
    headers: dict[str, str]  # column key → header as the user wrote it
    source_format: str  # "csv (UTF-8)", "csv (GB18030)", "xlsx", "json" …
    problems: pl.DataFrame = field(
        default_factory=errors.empty_errors
    )  # header and cell problems found on reading


def read_file(data: bytes, name: str | None = None) -> Table:
    """Parse an uploaded file; raise ``FileProblem`` when it cannot be read as a table at all."""
    limit = settings.KILN_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise FileProblem(errors.FILE_TOO_LARGE, human_size(limit))
    if _blank(data):
        raise FileProblem(errors.FILE_EMPTY)
    actual = filetypes.sniff(data[:8192], data)
    promised = filetypes.promised_by(name)
    if name and promised is None:
        raise FileProblem(errors.FILE_TYPE_UNSUPPORTED, filetypes.extension(name) or name)
    if promised is not None and promised != actual:
        raise FileProblem(
            errors.FILE_TYPE_MISMATCH,
            f"{filetypes.extension(name)} ≠ {filetypes.LABELS.get(actual, actual)}",
        )
    if actual in (filetypes.XLSX, filetypes.XLS):
        return _read_workbook(data, actual)
    if actual != filetypes.TEXT:
        raise FileProblem(errors.FILE_TYPE_UNSUPPORTED, filetypes.LABELS.get(actual, actual))
    return _read_csv(data)


def _blank(data: bytes) -> bool:
    head = data[:4096].removeprefix(UTF8_BOM)
    if head.strip():
        return False
    return not data.removeprefix(UTF8_BOM).strip()


def human_size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):g} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):g} KB"
    return f"{n} bytes"


# --- CSV -----------------------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding's label; refuses mixed encodings instead of producing mojibake."""
    if data.startswith(UTF8_BOM):
        return _strict(data[3:], "utf-8", "UTF-8 BOM"), "UTF-8 BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16", "UTF-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        first_bad = data.count(b"\n", 0, exc.start) + 1
    # Not UTF-8. If some other line *is* UTF-8 with Chinese text in it, two encodings were mixed:
    # decoding the whole as GB18030 would silently turn those lines into mojibake.
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        raise FileProblem(errors.FILE_ENCODING, f"line {number} is UTF-8, line {first_bad} is not")
    # GB18030 is a superset of GBK and GB2312: what "ANSI" means on Chinese Windows.
    return _strict(data, "gb18030", "GB18030"), "GB18030"


def _strict(data: bytes, encoding: str, label: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileProblem(errors.FILE_ENCODING, f"line {line} is not valid {label}") from exc


def _read_csv(data: bytes) -> Table:
    text, encoding = decode(data)
    if "\x00" in text:
        raise FileProblem(errors.FILE_UNREADABLE, "binary data in a text file")
    end = text.find("\n", 0, 1 << 16)
    first_line = text[: end if end >= 0 else 1 << 16].lstrip("\ufeff")
    delimiter = max(DELIMITERS, key=first_line.count)
    payload = data if encoding in ("UTF-8", "UTF-8 BOM") else text.encode("utf-8")
    try:
        raw = pl.read_csv(
            io.BytesIO(payload),
            has_header=True,
            separator=delimiter,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise FileProblem(errors.FILE_UNREADABLE, _first_line(exc)) from exc
    names = raw.columns
    headers = [h.lstrip("\ufeff") for h in names]
    if not any(h.strip() for h in headers):
        raise FileProblem(errors.FILE_EMPTY)
    # Header on line 1; record i (0-based) is spreadsheet row i + 2, blank records included.
    raw = raw.with_row_index("_row", offset=2).with_columns(pl.col("_row").cast(pl.Int64))
    return _table(raw, headers, names, f"csv ({encoding})")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().split("\n", 1)[0][:200]


# --- XLSX ----------------------------------------------------------------------------------------------


def _read_workbook(data: bytes, kind: str) -> Table:
    if kind == filetypes.XLS:
        return _read_legacy_workbook(data)
    inspection = zipguard.inspect(data)
    try:
        # fastexcel (calamine underneath) hands back Arrow columns: no Python object per cell.
        sheet = fastexcel.read_excel(data).load_sheet(0, header_row=None, dtypes="string")
        raw = sheet.to_polars()
    except (fastexcel.FastExcelError, ValueError, OSError, IndexError) as exc:
        raise FileProblem(errors.FILE_UNREADABLE, _first_line(exc)) from exc
    # The reader starts at the first row holding a value; the zip scan found which row that is.
    first_row = inspection.first.first_value_row or 1
    names = raw.columns
    if raw.height == 0:
        raise FileProblem(errors.FILE_EMPTY)
    headers = ["" if v is None else str(v).strip() for v in raw.row(0)]
    body = raw.slice(1).with_columns(
        pl.int_range(first_row + 1, first_row + raw.height, dtype=pl.Int64).alias("_row")
    )
    period = next(
        (
            names[i]
            for i, h in enumerate(headers)
            if columns.BY_SPELLING.get(columns.normalise_header(h)) == "period"
        ),
        None,
    )
    if period is not None:
        # A month typed into Excel becomes a date on its first day: give it back as YYYY-MM.
        body = body.with_columns(pl.col(period).str.replace(r"^(\d{4}-\d{2})-01(?: 00:00:00)?$", "$1"))
    table = _table(body, headers, names, "xlsx", header_row=first_row)
    formulas = inspection.first_formulas
    if formulas:
        table.problems = pl.concat([table.problems, _formula_errors(formulas, headers, table.headers)])
    return table


def _read_legacy_workbook(data: bytes) -> Table:
    """Excel 97-2003 (.xls): rare, small, read cell by cell with python-calamine."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        values = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError, IndexError) as exc:
        raise FileProblem(errors.FILE_UNREADABLE, _first_line(exc)) from exc
    # Keep leading blank rows so numbers match what Excel shows; the header is the first non-blank row.
    header_index = next((i for i, row in enumerate(values) if any(v not in (None, "") for v in row)), None)
    if header_index is None:
        raise FileProblem(errors.FILE_EMPTY)
    headers = [_cell_text(v) for v in values[header_index]]
    body = values[header_index + 1 :]
    width = len(headers)
    names = [f"c{i}" for i in range(width)]
    by_column = [[_cell_text(row[i]) if i < len(row) else "" for row in body] for i in range(width)]
    frame = pl.DataFrame(
        {name: pl.Series(col, dtype=pl.String) for name, col in zip(names, by_column, strict=True)},
        height=len(body),
    ).with_columns(pl.int_range(header_index + 2, header_index + 2 + len(body), dtype=pl.Int64).alias("_row"))
    return _table(frame, headers, names, "xls", header_row=header_index + 1)


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _formula_errors(cells: list[tuple[str, int]], headers: list[str], mapped: dict[str, str]) -> pl.DataFrame:
    key_by_header = {v: k for k, v in mapped.items()}
    rows = []
    for letters, number in cells:
        index = _column_index(letters)
        header = headers[index] if index < len(headers) else letters
        rows.append(
            {
                "row": number,
                "column": key_by_header.get(header, header),
                "value": "",
                "code": errors.CELL_FORMULA,
                "detail": "",
            }
        )
    return pl.DataFrame(rows, schema=errors.ERROR_SCHEMA)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime.datetime | datetime.date):
        # A month typed into Excel becomes a date on its first day: give it back as YYYY-MM.
        if value.day == 1 and (not isinstance(value, datetime.datetime) or value.time() == datetime.time()):
            return f"{value.year:04d}-{value.month:02d}"
        return value.isoformat()
    return str(value).strip()


# --- both -----------------------------------------------------------------------------------------------


def _table(
    raw: pl.DataFrame, headers: list[str], names: list[str], source_format: str, *, header_row: int = 1
) -> Table:
    """Map headers to column keys, keep the known columns as trimmed strings, drop blank rows.

    ``names[i]`` is the column of ``raw`` that holds the values under ``headers[i]``.
    """
    mapped: dict[str, str] = {}
    source: dict[str, str] = {}
    problems = []
    for i, header in enumerate(headers):
        key = columns.BY_SPELLING.get(columns.normalise_header(header))
        if key is None:
            continue
        if key in mapped:
            problems.append(
                errors.file_error(errors.HEADER_DUPLICATE, column=key, value=header, row=header_row)
            )
            continue
        mapped[key] = header
        source[key] = names[i]
    for key in columns.REQUIRED:
        if key not in mapped:
            accepted = " / ".join(columns.BY_KEY[key].headers)
            problems.append(errors.file_error(errors.HEADER_MISSING, accepted, column=key, row=header_row))
    frame = raw.select(
        "_row",
        *[
            (pl.col(source[key]).fill_null("").str.strip_chars() if key in source else pl.lit("")).alias(key)
            for key in columns.KEYS
        ],
    )
    blank = pl.all_horizontal([pl.col(k) == "" for k in columns.KEYS])
    frame = frame.filter(~blank)
    table = Table(frame=frame, headers=mapped, source_format=source_format)
    if problems:
        table.problems = pl.concat(problems)
    elif frame.height == 0:
        raise FileProblem(errors.FILE_HEADERS_ONLY)
    return table


def table_from_records(records: list[dict], source_format: str = "json") -> Table:
    """Rows given as mappings (API, external SQL): keys may be English or Chinese headers."""
    if not records:
        raise FileProblem(errors.BATCH_EMPTY)
    seen: dict[str, None] = {}
    for record in records[:1000]:
        seen.update(dict.fromkeys(record))
    headers = list(seen)
    data = {
        h: [_cell_text(r.get(h)) if not isinstance(r.get(h), str) else r.get(h) for r in records]
        for h in headers
    }
    raw = pl.DataFrame({h: pl.Series(v, dtype=pl.String) for h, v in data.items()}, height=len(records))
    raw = raw.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))
    return _table(raw, headers, headers, source_format)


def table_from_frame(frame: pl.DataFrame, source_format: str = "frame") -> Table:
    """A frame whose column names are keys or headers; row numbers count from 1."""
    if frame.height == 0:
        raise FileProblem(errors.BATCH_EMPTY)
    raw = frame.select([pl.col(c).cast(pl.String) for c in frame.columns if c != "_row"])
    if "_row" in frame.columns:
        raw = raw.with_columns(frame["_row"].cast(pl.Int64))
    else:
        raw = raw.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))
    headers = [c for c in raw.columns if c != "_row"]
    return _table(raw, headers, headers, source_format)
