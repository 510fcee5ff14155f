"""Content-addressed evidence storage: a file's name is its SHA-256.

Files live at ``MEDIA_ROOT/evidence/ab/cd/<sha256>``; storing the same bytes twice is a
no-op (or restores a copy altered on disk), so the ledger entry that names a hash keeps
meaning the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings

EVIDENCE_DIR = "evidence"
_CHUNK = 1024 * 1024


def relative_path(sha256: str) -> str:
    return f"{EVIDENCE_DIR}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def store_file(fileobj, *, root: Path | None = None) -> tuple[str, str]:
    """Store a readable binary file object; return ``(sha256 hex, path relative to MEDIA_ROOT)``."""
    root = Path(root) if root is not None else media_root()
    staging = root / EVIDENCE_DIR / "incoming"
    staging.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    # Hash while writing to a temporary file in the same file system, then rename: no partial
    # file ever sits under its final name.
    fd, temporary = tempfile.mkstemp(dir=staging)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := fileobj.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        sha256 = digest.hexdigest()
        relative = relative_path(sha256)
        final = root / relative
        if final.exists() and file_sha256(final) == sha256:
            os.unlink(temporary)
        else:
            # Absent, or altered on disk since it was stored: these bytes are the right ones.
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temporary, 0o440)
            os.replace(temporary, final)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return sha256, relative


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def resolve(relative: str, root: Path | None = None) -> Path | None:
    """The absolute path of a stored file, or None when ``relative`` escapes the root."""
    root = (Path(root) if root is not None else media_root()).resolve()
    candidate = (root / relative).resolve()
    return candidate if candidate.is_relative_to(root) else None
