"""Zip-bomb protection for workbooks, before any spreadsheet parser sees them.

An ``.xlsx`` is a zip of XML files. Two checks:

1. the central directory: number of entries, total declared uncompressed size, and the
   compression ratio of every entry;
2. the data itself: every entry is inflated with a hard cap, because the declared sizes are
   written by whoever made the file and can lie. The inflation is streamed, so memory stays flat.

The same pass notes, for each worksheet, whether it has formula cells (``<f>`` elements:
the spreadsheet reader returns a formula's cached value or nothing, never the formula) and
the first row holding a value (the reader drops leading blank rows, but the row numbers in
error reports must be the ones Excel shows).
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from io import BytesIO

from django.conf import settings

from kiln.intake import errors
from kiln.intake.errors import FileProblem

MAX_ENTRIES = 10_000
# Spreadsheet XML is repetitive: real workbooks compress 5–30×, rarely beyond 100×.
MAX_RATIO = 200
_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*>\s*<f[ >/]')
_FORMULA_TAG = re.compile(rb"<f[ >/]")
# A cell with a value: <c r="B3" ...><v>…, <c r="B3" t="inlineStr"><is>…, or a formula with its cached value.
_VALUE_CELL = re.compile(rb'<c r="[A-Z]{1,3}(\d+)"[^>/]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)?<(?:v|is)>')
_SHEET_XML = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_SHEET_ENTRY = re.compile(rb'<sheet\b[^>]*?\br:id="([^"]+)"')
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*>")
_SCAN_TAIL = 4096


@dataclass
class SheetScan:
    has_formulas: bool = False
    first_value_row: int | None = None


@dataclass
class Inspection:
    uncompressed: int = 0
    first_sheet: str | None = None  # path of the workbook's first worksheet, e.g. "xl/worksheets/sheet1.xml"
    sheets: dict[str, SheetScan] = field(default_factory=dict)
    # worksheet path → [(column letters, row number)] of its formula cells
    formulas: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def first(self) -> SheetScan:
        return self.sheets.get(self.first_sheet or "", SheetScan())

    @property
    def first_formulas(self) -> list[tuple[str, int]]:
        return self.formulas.get(self.first_sheet or "", [])


def max_uncompressed() -> int:
    return getattr(settings, "KILN_MAX_XLSX_UNCOMPRESSED_BYTES", 1 << 30)


def inspect(data: bytes) -> Inspection:
    """Check a workbook's zip container; raise ``FileProblem`` (INT-FILE-ZIP-BOMB / UNREADABLE)."""
    limit = max_uncompressed()
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileProblem(errors.FILE_UNREADABLE, "not a valid zip archive") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise FileProblem(errors.FILE_ZIP_BOMB, f"{len(infos)} entries")
        declared = sum(i.file_size for i in infos)
        if declared > limit:
            raise FileProblem(errors.FILE_ZIP_BOMB, f"{declared} bytes uncompressed")
        for info in infos:
            if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > _CHUNK:
                raise FileProblem(
                    errors.FILE_ZIP_BOMB,
                    f"{info.filename}: ratio {info.file_size // max(info.compress_size, 1)}:1",
                )
    result = Inspection()
    view = memoryview(data)
    for info in infos:
        sheet = bool(_SHEET_XML.match(info.filename))
        size, scan = _inflate_capped(view, info, limit - result.uncompressed, scan=sheet)
        result.uncompressed += size
        if sheet:
            result.sheets[info.filename] = scan
    # Only now, with every size verified, is it safe to let zipfile inflate entries whole.
    with zipfile.ZipFile(BytesIO(data)) as archive:
        result.first_sheet = _first_sheet(archive) or min(
            result.sheets, key=lambda n: (len(n), n), default=None
        )
        for name, scan in result.sheets.items():
            if scan.has_formulas:
                xml = archive.read(name)
                result.formulas[name] = [(m[1].decode(), int(m[2])) for m in _FORMULA_CELL.finditer(xml)]
    return result


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """The first <sheet> of xl/workbook.xml, resolved through its relationship to a worksheet path."""
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    first = _SHEET_ENTRY.search(workbook)
    if first is None:
        return None
    for rel in _RELATIONSHIP.findall(rels):
        if re.search(rb'\bId="' + re.escape(first[1]) + rb'"', rel):
            target = re.search(rb'\bTarget="([^"]+)"', rel)
            if target:
                path = target[1].decode()
                return path.lstrip("/") if path.startswith("/") else f"xl/{path}"
    return None


def _inflate_capped(
    data: memoryview, info: zipfile.ZipInfo, budget: int, *, scan: bool
) -> tuple[int, SheetScan]:
    """Inflate one entry, refusing more output than it declares or than the budget left.

    Returns the inflated size and, with ``scan``, what the worksheet XML holds.
    """
    header = _LOCAL_HEADER.unpack_from(data, info.header_offset)
    if header[0] != b"PK\x03\x04":
        raise FileProblem(errors.FILE_UNREADABLE, "damaged zip archive")
    start = info.header_offset + _LOCAL_HEADER.size + header[9] + header[10]
    raw = data[start : start + info.compress_size]
    cap = min(info.file_size, budget)
    result = SheetScan()
    produced = 0
    tail = b""

    def take(out: bytes) -> None:
        nonlocal produced, tail
        produced += len(out)
        if produced > cap:
            raise FileProblem(errors.FILE_ZIP_BOMB, f"{info.filename} inflates beyond its declared size")
        if scan and (not result.has_formulas or result.first_value_row is None):
            window = tail + out
            result.has_formulas = result.has_formulas or _FORMULA_TAG.search(window) is not None
            if result.first_value_row is None and (cell := _VALUE_CELL.search(window)):
                result.first_value_row = int(cell[1])
            tail = out[-_SCAN_TAIL:]

    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) > cap:
            raise FileProblem(errors.FILE_ZIP_BOMB, info.filename)
        take(bytes(raw))
        return produced, result
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise FileProblem(errors.FILE_UNREADABLE, f"unsupported compression in {info.filename}")
    inflater = zlib.decompressobj(-15)
    try:
        for offset in range(0, len(raw), _CHUNK):
            pending = bytes(raw[offset : offset + _CHUNK])
            while True:  # at most _CHUNK bytes out per call, so a bomb never lands in memory
                out = inflater.decompress(pending, _CHUNK)
                take(out)
                pending = inflater.unconsumed_tail
                if not pending and len(out) < _CHUNK:
                    break
        take(inflater.flush())
    except zlib.error as exc:
        raise FileProblem(errors.FILE_UNREADABLE, f"damaged entry {info.filename}") from exc
    return produced, result
