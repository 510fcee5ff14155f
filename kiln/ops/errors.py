"""Stable error codes of the operations app (DESIGN.md rule 4): the text is a translation of the code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "KLN-OPS-001": _("The backup could not be written."),
    "KLN-OPS-002": _(
        "pg_dump was not found. Install the PostgreSQL client programs (Debian: postgresql-client) or set KILN_PG_BIN_DIR."
    ),
    "KLN-OPS-003": _(
        "pg_restore was not found. Install the PostgreSQL client programs (Debian: postgresql-client) or set KILN_PG_BIN_DIR."
    ),
    "KLN-OPS-004": _("A PostgreSQL client program failed."),
    "KLN-OPS-005": _("This database engine cannot be backed up by Kiln."),
    "KLN-OPS-010": _("Not a Kiln backup archive."),
    "KLN-OPS-011": _("The backup archive is damaged: a part does not match its SHA-256 in the manifest."),
    "KLN-OPS-012": _("The backup was taken from a different database engine than the one configured."),
    "KLN-OPS-013": _("The database is not empty. Restoring would overwrite it; pass --force to do so."),
}


class OpsError(Exception):
    """An operations failure with a stable code; ``detail`` adds facts (a path, a program's output)."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {MESSAGES[code]}" + (f" {detail}" if detail else ""))

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code])
