"""Stable error codes of the factor library."""

from django.utils.translation import gettext_lazy as _


class FactorError(Exception):
    """A refused factor-library action; ``code`` is stable, ``message`` translated."""

    def __init__(self, code: str, message, details: list[str] | None = None):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.details = details or []


LOCKED = "FAC-SET-LOCKED"
INVALID = "FAC-SET-INVALID"
UNKNOWN = "FAC-SET-UNKNOWN"
FILE_UNREADABLE = "FAC-FILE-UNREADABLE"

MESSAGES = {
    LOCKED: _(
        "This factor set has been used by a calculation and can no longer change; create a new version."
    ),
    INVALID: _("The factor set is not valid."),
    UNKNOWN: _("No such factor set."),
    FILE_UNREADABLE: _(
        "The factor file could not be read: it must be a CSV or XLSX file with the factor columns."
    ),
}


def refuse(code: str, details: list[str] | None = None) -> FactorError:
    return FactorError(code, MESSAGES[code], details)
