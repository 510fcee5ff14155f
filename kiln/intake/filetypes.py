"""What a file really is, judged by its first bytes rather than by its name.

Used by activity imports (a ``.xlsx`` must be a zip, a ``.csv`` must be text) and by the
evidence deposit (only PDF, PNG, JPEG, XLSX and CSV are accepted).
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import PurePath

PDF = "pdf"
PNG = "png"
JPEG = "jpeg"
XLSX = "xlsx"
XLS = "xls"
ZIP = "zip"  # a zip archive that is not an Office workbook
TEXT = "text"  # CSV and other plain text
BINARY = "binary"  # anything else

# Names that read the same in Chinese and English messages (they go into error details stored as text).
LABELS = {
    PDF: "PDF",
    PNG: "PNG",
    JPEG: "JPEG",
    XLSX: "Excel (.xlsx)",
    XLS: "Excel 97-2003 (.xls)",
    ZIP: "ZIP",
    TEXT: "CSV/TXT",
    BINARY: "BIN",
}
CONTENT_TYPES = {
    PDF: "application/pdf",
    PNG: "image/png",
    JPEG: "image/jpeg",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    TEXT: "text/csv",
}
# What each extension promises.
EXTENSIONS = {
    ".csv": TEXT,
    ".txt": TEXT,
    ".tsv": TEXT,
    ".xlsx": XLSX,
    ".xlsm": XLSX,
    ".xls": XLS,
    ".pdf": PDF,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
}

_MAGIC = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", XLS),
)
# Bytes that never occur in text files (NUL and most C0 controls); tab, CR, LF, FF, ESC are allowed.
_BINARY_BYTES = bytes(set(range(32)) - {9, 10, 12, 13, 27})


def sniff(head: bytes, data: bytes | None = None) -> str:
    """The kind of a file from its first bytes; ``data`` (the whole file) tells a workbook from other zips."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data) if data is not None else XLSX
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return TEXT  # UTF-16 with a byte-order mark
    if any(b in _BINARY_BYTES for b in head[:4096]):
        return BINARY
    return TEXT


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return XLSX  # damaged or truncated: let the workbook reader say it cannot be read
    return XLSX if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names) else ZIP


def promised_by(name: str | None) -> str | None:
    """The kind a file name's extension promises, ``None`` when it promises nothing we know."""
    if not name:
        return None
    return EXTENSIONS.get(PurePath(name).suffix.lower())


def extension(name: str | None) -> str:
    return PurePath(name).suffix.lower() if name else ""
