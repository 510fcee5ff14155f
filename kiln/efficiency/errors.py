"""Stable codes of the carbon-efficiency code (DESIGN.md rule 4): import errors, reasons for no grade.

Import errors travel as ``kiln.registry.errors.RowError`` (the file-level and column-level
``REG-*`` codes are shared with the registry's imports); the ``ECO-*`` codes below are the
economic data's own. Reason codes (``EFF-*``) come from ``kiln.engine.efficiency``; their text is here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kiln.engine import efficiency as engine
from kiln.registry.errors import register_messages

ENTERPRISE_UNKNOWN = "ECO-ENTERPRISE-UNKNOWN"
YEAR_INVALID = "ECO-YEAR-INVALID"
YEAR_IN_FUTURE = "ECO-YEAR-IN-FUTURE"
NUMBER_INVALID = "ECO-NUMBER-INVALID"
OUTPUT_NEGATIVE = "ECO-OUTPUT-NEGATIVE"
DUPLICATE_IN_FILE = "ECO-DUPLICATE-IN-FILE"
NO_SCOPE = "ECO-NO-SCOPE"

IMPORT_MESSAGES = {
    ENTERPRISE_UNKNOWN: _("No enterprise you may report for has the credit code %(value)s."),
    YEAR_INVALID: _("The year must be a four-digit year from 2000 on, such as 2024."),
    YEAR_IN_FUTURE: _("The year %(value)s has not ended yet."),
    NUMBER_INVALID: _("%(value)s is not a number (use digits, a decimal point and no units)."),
    OUTPUT_NEGATIVE: _("The industrial output value cannot be negative."),
    DUPLICATE_IN_FILE: _("This enterprise and year already appear in row %(first_row)s of this file."),
    NO_SCOPE: _("Your role may not import economic data."),
}
register_messages(IMPORT_MESSAGES)

# Why an enterprise has no L or no grade, and what the card says.
NO_OFFICIAL_RUN = "EFF-NO-OFFICIAL-RUN"
REASONS = {
    engine.NO_ENERGY_DATA: _(
        "No energy data: the official accounting run has no energy use for this enterprise and period."
    ),
    engine.NO_VALUE_ADDED: _("No industrial value added has been reported for this year."),
    engine.VALUE_ADDED_NOT_POSITIVE: _(
        "The industrial value added is zero or negative, so carbon intensity is not defined."
    ),
    engine.INDUSTRY_TOO_SMALL: _("Too few enterprises of this industry have an L to compare with."),
    engine.INDUSTRY_MEAN_ZERO: _(
        "The industry's mean L is zero, so the enterprise cannot be compared with it."
    ),
}
RUN_MESSAGES = {
    NO_OFFICIAL_RUN: _(
        "There is no official accounting run for this year and region: calculate emissions first."
    ),
}


class EfficiencyError(Exception):
    def __init__(self, code: str, message=None):
        self.code = code
        self.message = message if message is not None else RUN_MESSAGES.get(code, code)
        super().__init__(f"{code}: {self.message}")


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code)) if code else ""
