"""Stable error codes for registry imports (DESIGN.md rule 4).

The code is the contract: reports, API clients and tests match on it. The message is
only its translation, rendered in the reader's language when it is shown, so a stored
report reads correctly in whichever language it is opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

FILE_EMPTY = "REG-FILE-EMPTY"
FILE_UNREADABLE = "REG-FILE-UNREADABLE"
FILE_TOO_LARGE = "REG-FILE-TOO-LARGE"
HEADER_MISSING = "REG-HEADER-MISSING"
HEADER_DUPLICATE = "REG-HEADER-DUPLICATE"
REQUIRED = "REG-REQUIRED"
TOO_LONG = "REG-TOO-LONG"
DUPLICATE_IN_FILE = "REG-DUPLICATE-IN-FILE"
CREDIT_LENGTH = "REG-CREDIT-LENGTH"
CREDIT_CHARSET = "REG-CREDIT-CHARSET"
CREDIT_REGION = "REG-CREDIT-REGION"
CREDIT_CHECKSUM = "REG-CREDIT-CHECKSUM"
CREDIT_TAKEN = "REG-CREDIT-TAKEN"
REGION_UNKNOWN = "REG-REGION-UNKNOWN"
INDUSTRY_UNKNOWN = "REG-INDUSTRY-UNKNOWN"
SIZE_INVALID = "REG-SIZE-INVALID"
BOOLEAN_INVALID = "REG-BOOLEAN-INVALID"
REGION_CODE_INVALID = "REG-REGION-CODE-INVALID"
INDUSTRY_CODE_INVALID = "REG-INDUSTRY-CODE-INVALID"
LEVEL_INVALID = "REG-LEVEL-INVALID"
LEVEL_MISMATCH = "REG-LEVEL-MISMATCH"
PARENT_UNEXPECTED = "REG-PARENT-UNEXPECTED"
PARENT_UNKNOWN = "REG-PARENT-UNKNOWN"
PARENT_LEVEL = "REG-PARENT-LEVEL"
PARENT_MISMATCH = "REG-PARENT-MISMATCH"
ETS_SECTOR_INVALID = "REG-ETS-SECTOR-INVALID"

MESSAGES = {
    FILE_EMPTY: _("The file is empty: it has no header row or no data rows."),
    FILE_UNREADABLE: _(
        "The file could not be read. Save it as CSV (UTF-8 or GBK) or as an Excel workbook (.xlsx) and try again."
    ),
    FILE_TOO_LARGE: _("The file is larger than the upload limit of %(limit_mb)s MB."),
    HEADER_MISSING: _("The required column “%(column)s” is missing (accepted headers: %(accepted)s)."),
    HEADER_DUPLICATE: _("The column “%(column)s” appears more than once."),
    REQUIRED: _("A value is required."),
    TOO_LONG: _("The value is longer than %(max_length)s characters."),
    DUPLICATE_IN_FILE: _("The same code already appears in row %(first_row)s of this file."),
    CREDIT_LENGTH: _("A unified social credit code has 18 characters; this one has %(length)s."),
    CREDIT_CHARSET: _("The code may only contain digits and capital letters other than I, O, S, V and Z."),
    CREDIT_REGION: _("Characters 3 to 8 of the code must be a six-digit administrative division code."),
    CREDIT_CHECKSUM: _(
        "The check character (the last one) does not match: the code has probably been mistyped."
    ),
    CREDIT_TAKEN: _("This code belongs to an organisation that is not an enterprise: %(name)s."),
    REGION_UNKNOWN: _("No administrative division has the code %(value)s."),
    INDUSTRY_UNKNOWN: _("No industry (GB/T 4754-2017) has the code %(value)s."),
    SIZE_INVALID: _(
        "The enterprise size must be one of large, medium, small, micro (大型, 中型, 小型, 微型)."
    ),
    BOOLEAN_INVALID: _("Use true or false (also accepted: yes/no, 是/否, 1/0)."),
    REGION_CODE_INVALID: _("An administrative division code has six digits."),
    INDUSTRY_CODE_INVALID: _(
        "An industry code is a section letter A to T, followed by 2, 3 or 4 digits for a division, group or class."
    ),
    LEVEL_INVALID: _("The level must be a whole number from 0 to 3."),
    LEVEL_MISMATCH: _("For the code %(industry_code)s the level must be %(expected)s."),
    PARENT_UNEXPECTED: _("A top-level entry (level 0) has no parent."),
    PARENT_UNKNOWN: _("The parent code %(value)s is neither in the registry nor in this file."),
    PARENT_LEVEL: _("The parent must be on a higher level (a smaller level number) than the entry itself."),
    PARENT_MISMATCH: _(
        "An industry's parent code must be the beginning of its own code (for example C30 for C3011)."
    ),
    ETS_SECTOR_INVALID: _("The national ETS sector must be empty or one of power, steel, cement, aluminium."),
}


def register_messages(messages: dict[str, Any]) -> None:
    """Let another app's import (economic data …) report its own codes through ``RowError``.

    Codes are a contract: registering a code twice with another message is a programming error.
    """
    for code, message in messages.items():
        if code in MESSAGES and MESSAGES[code] is not message:
            raise ValueError(f"error code {code} is already registered")
        MESSAGES[code] = message


# Reason codes of kiln.registry.credit_code.problem() → import error codes.
CREDIT_CODE_PROBLEMS = {
    "length": CREDIT_LENGTH,
    "charset": CREDIT_CHARSET,
    "region": CREDIT_REGION,
    "checksum": CREDIT_CHECKSUM,
}


@dataclass(frozen=True)
class RowError:
    """One problem found in an uploaded file.

    ``row`` is the row number the user sees in their spreadsheet (the header is row 1),
    or ``None`` for a problem with the file as a whole. ``column`` is the header as the
    user wrote it.
    """

    code: str
    row: int | None = None
    column: str = ""
    value: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code]) % {"value": self.value, "column": self.column, **self.params}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe form, for the session and the API."""
        return {
            "code": self.code,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowError:
        return cls(
            code=data["code"],
            row=data.get("row"),
            column=data.get("column", ""),
            value=data.get("value", ""),
            params=data.get("params") or {},
        )
