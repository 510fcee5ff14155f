"""Zip-bomb protection for workbooks, before any spreadsheet parser sees them.

An ``.xlsx`` is a zip of XML files. Two checks:

1. the central directory: number of entries, total declared uncompressed size, and the
   compression ratio of every entry;
2. the data itself: every entry is inflated with a hard cap, because the declared sizes are
   written by whoever made the file and can lie. The inflation is streamed, so memory stays flat.

The same pass looks for formula cells (``<f>`` elements) in the worksheets, since the
spreadsheet reader returns a formula's cached value (or nothing), never the formula.
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
_SHEET_XML = re.compile(r"^xl/worksheets/[^/]+\.xml$")


@dataclass
class Inspection:
    uncompressed: int = 0
    # first worksheet path → [(column letters, row number)] of its formula cells
    formulas: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


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
                raise FileProblem(errors.FILE_ZIP_BOMB, f"{info.filename}: ratio {info.file_size // max(info.compress_size, 1)}:1")
    result = Inspection()
    view = memoryview(data)
    with_formulas = []
    for info in infos:
        sheet = bool(_SHEET_XML.match(info.filename))
        size, has_formula = _inflate_capped(view, info, limit - result.uncompressed, scan=sheet)
        result.uncompressed += size
        if has_formula:
            with_formulas.append(info.filename)
    if with_formulas:
        # Only now, with every size verified, is it safe to let zipfile inflate a sheet whole.
        with zipfile.ZipFile(BytesIO(data)) as archive:
            for name in with_formulas:
                xml = archive.read(name)
                result.formulas[name] = [(m[1].decode(), int(m[2])) for m in _FORMULA_CELL.finditer(xml)]
    return result


def _inflate_capped(data: memoryview, info: zipfile.ZipInfo, budget: int, *, scan: bool) -> tuple[int, bool]:
    """Inflate one entry, refusing more output than it declares or than the budget left.

    Returns the inflated size and, with ``scan``, whether the XML has a formula element.
    """
    header = _LOCAL_HEADER.unpack_from(data, info.header_offset)
    if header[0] != b"PK\x03\x04":
        raise FileProblem(errors.FILE_UNREADABLE, "damaged zip archive")
    start = info.header_offset + _LOCAL_HEADER.size + header[9] + header[10]
    raw = data[start:start + info.compress_size]
    cap = min(info.file_size, budget)
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) > cap:
            raise FileProblem(errors.FILE_ZIP_BOMB, info.filename)
        return len(raw), bool(scan and _FORMULA_TAG.search(raw))
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise FileProblem(errors.FILE_UNREADABLE, f"unsupported compression in {info.filename}")
    inflater = zlib.decompressobj(-15)
    produced = 0
    found = False
    tail = b""

    def take(out: bytes) -> None:
        nonlocal produced, found, tail
        produced += len(out)
        if produced > cap:
            raise FileProblem(errors.FILE_ZIP_BOMB, f"{info.filename} inflates beyond its declared size")
        if scan and not found:
            found = _FORMULA_TAG.search(tail + out) is not None
            tail = out[-4:]

    try:
        for offset in range(0, len(raw), _CHUNK):
            pending = bytes(raw[offset:offset + _CHUNK])
            while True:  # at most _CHUNK bytes out per call, so a bomb never lands in memory
                out = inflater.decompress(pending, _CHUNK)
                take(out)
                pending = inflater.unconsumed_tail
                if not pending and len(out) < _CHUNK:
                    break
        take(inflater.flush())
    except zlib.error as exc:
        raise FileProblem(errors.FILE_UNREADABLE, f"damaged entry {info.filename}") from exc
    return produced, found
