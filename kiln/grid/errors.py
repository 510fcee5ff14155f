"""Stable codes of the metered-electricity import (DESIGN.md rule 4); messages are their translations."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

FILE_UNREADABLE = "GRID-FILE-UNREADABLE"
FILE_EMPTY = "GRID-FILE-EMPTY"
HEADER_MISSING = "GRID-HEADER-MISSING"
ENTERPRISE_UNKNOWN = "GRID-ENTERPRISE-UNKNOWN"
DATE_OR_PERIOD = "GRID-DATE-OR-PERIOD"
DATE_INVALID = "GRID-DATE-INVALID"
DATE_FUTURE = "GRID-DATE-FUTURE"
PERIOD_INVALID = "GRID-PERIOD-INVALID"
PERIOD_FUTURE = "GRID-PERIOD-FUTURE"
KWH_INVALID = "GRID-KWH-INVALID"
KWH_NEGATIVE = "GRID-KWH-NEGATIVE"
DUPLICATE = "GRID-DUPLICATE"

MESSAGES = {
    FILE_UNREADABLE: _("The file could not be read as CSV or XLSX."),
    FILE_EMPTY: _("The file has no readings."),
    HEADER_MISSING: _("A required column is missing: credit_code, kwh and date (daily) or period (monthly)."),
    ENTERPRISE_UNKNOWN: _("No enterprise with this credit code in your scope."),
    DATE_OR_PERIOD: _(
        "Give either a date (daily reading) or a period (monthly reading), not both or neither."
    ),
    DATE_INVALID: _("The date is not a valid YYYY-MM-DD date."),
    DATE_FUTURE: _("The date is in the future."),
    PERIOD_INVALID: _("The period is not a valid YYYY-MM month."),
    PERIOD_FUTURE: _("The period is in the future."),
    KWH_INVALID: _("The kWh value is not a number."),
    KWH_NEGATIVE: _("The kWh value is negative."),
    DUPLICATE: _("The same enterprise and day (or month) appears more than once in the file."),
}


def message(code: str) -> str:
    return str(MESSAGES.get(code, code))
