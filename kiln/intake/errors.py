"""Stable error codes of every intake door (DESIGN.md rule 4) and the error frame that lists them.

The code is the contract: reports, API clients and tests match on it. The message is only
its translation, rendered when shown, with ``%(value)s``, ``%(column)s`` and ``%(detail)s``
filled from the error. Validation works on whole columns, so errors travel as a Polars
*error frame* with one row per problem:

======= ====== ==================================================================
column  dtype  meaning
======= ====== ==================================================================
row     Int64  row number as the user sees it (header = row 1; for the API: the
               1-based position in ``rows``); null for problems with the whole input
column  String column key (``credit_code`` ...); "" when none applies
value   String the offending value as given
code    String stable code (``INT-…``)
detail  String what the message needs besides value and column ("" when nothing)
======= ====== ==================================================================
"""

from __future__ import annotations

import polars as pl
from django.utils.translation import gettext_lazy as _

# --- the file as a whole --------------------------------------------------------------------------------
FILE_EMPTY = "INT-FILE-EMPTY"
FILE_HEADERS_ONLY = "INT-FILE-HEADERS-ONLY"
FILE_TOO_LARGE = "INT-FILE-TOO-LARGE"
FILE_TYPE_MISMATCH = "INT-FILE-TYPE-MISMATCH"
FILE_TYPE_UNSUPPORTED = "INT-FILE-TYPE-UNSUPPORTED"
FILE_ZIP_BOMB = "INT-FILE-ZIP-BOMB"
FILE_ENCODING = "INT-FILE-ENCODING"
FILE_UNREADABLE = "INT-FILE-UNREADABLE"
HEADER_MISSING = "INT-HEADER-MISSING"
HEADER_DUPLICATE = "INT-HEADER-DUPLICATE"
BATCH_EMPTY = "INT-BATCH-EMPTY"
# --- cells ------------------------------------------------------------------------------------------------
VALUE_REQUIRED = "INT-VALUE-REQUIRED"
TEXT_TOO_LONG = "INT-TEXT-TOO-LONG"
CELL_FORMULA = "INT-CELL-FORMULA"
CREDIT_LENGTH = "INT-CREDIT-LENGTH"
CREDIT_CHARSET = "INT-CREDIT-CHARSET"
CREDIT_REGION = "INT-CREDIT-REGION"
CREDIT_CHECKSUM = "INT-CREDIT-CHECKSUM"
ENTERPRISE_UNKNOWN = "INT-ENTERPRISE-UNKNOWN"
ENTERPRISE_OUT_OF_SCOPE = "INT-ENTERPRISE-OUT-OF-SCOPE"
PERIOD_FORMAT = "INT-PERIOD-FORMAT"
PERIOD_FUTURE = "INT-PERIOD-FUTURE"
ITEM_UNKNOWN = "INT-ITEM-UNKNOWN"
QUANTITY_NOT_NUMBER = "INT-QUANTITY-NOT-NUMBER"
QUANTITY_NEGATIVE = "INT-QUANTITY-NEGATIVE"
QUANTITY_INFINITE = "INT-QUANTITY-INFINITE"
UNIT_UNKNOWN = "INT-UNIT-UNKNOWN"
UNIT_INCOMPATIBLE = "INT-UNIT-INCOMPATIBLE"
SOURCE_UNKNOWN = "INT-SOURCE-UNKNOWN"
DUPLICATE_IN_BATCH = "INT-DUPLICATE-IN-BATCH"
DUPLICATE_STORED = "INT-DUPLICATE-STORED"
MONTH_FROZEN = "INT-MONTH-FROZEN"
# --- requests ---------------------------------------------------------------------------------------------
IDEMPOTENCY_CONFLICT = "INT-IDEMPOTENCY-CONFLICT"
CORRECTION_REASON_MISSING = "INT-CORRECTION-REASON-MISSING"
# --- evidence deposit -------------------------------------------------------------------------------------
EVIDENCE_TYPE = "INT-EVIDENCE-TYPE"
EVIDENCE_CMA_NOT_LAB = "INT-EVIDENCE-CMA-NOT-LAB"

MESSAGES = {
    FILE_EMPTY: _("The file is empty."),
    FILE_HEADERS_ONLY: _("The file has a header row but no data rows."),
    FILE_TOO_LARGE: _("The file is larger than the upload limit of %(detail)s."),
    FILE_TYPE_MISMATCH: _(
        "The file's name says one type but its content is another (%(detail)s): rename it to match its "
        "content, or save it again as the type its name says."
    ),
    FILE_TYPE_UNSUPPORTED: _("This kind of file cannot be imported (%(detail)s). Use CSV or Excel (.xlsx)."),
    FILE_ZIP_BOMB: _(
        "The workbook expands to far more data than its size suggests and was not opened (%(detail)s)."
    ),
    FILE_ENCODING: _(
        "The text encoding is mixed or unknown (%(detail)s). Save the file again as CSV UTF-8 or as an Excel workbook."
    ),
    FILE_UNREADABLE: _(
        "The file could not be read (%(detail)s). Save it as CSV (UTF-8 or GBK) or as an Excel workbook (.xlsx)."
    ),
    HEADER_MISSING: _("The required column “%(column)s” is missing (accepted headers: %(detail)s)."),
    HEADER_DUPLICATE: _("The column “%(value)s” appears more than once."),
    BATCH_EMPTY: _("The batch has no rows."),
    VALUE_REQUIRED: _("A value is required."),
    TEXT_TOO_LONG: _("The text is longer than %(detail)s characters."),
    CELL_FORMULA: _("The cell holds a formula; formulas are not evaluated. Enter the value itself."),
    CREDIT_LENGTH: _("A unified social credit code has 18 characters; this one has %(detail)s."),
    CREDIT_CHARSET: _(
        "A unified social credit code may only contain digits and capital letters other than I, O, S, V and Z."
    ),
    CREDIT_REGION: _(
        "Characters 3 to 8 of a unified social credit code are a six-digit administrative division code."
    ),
    CREDIT_CHECKSUM: _(
        "The check character (the last one) does not match: the code has probably been mistyped."
    ),
    ENTERPRISE_UNKNOWN: _("No registered enterprise has this unified social credit code."),
    ENTERPRISE_OUT_OF_SCOPE: _("You may not submit data for this enterprise (it is not one you report for)."),
    PERIOD_FORMAT: _("The month must be written YYYY-MM, for example 2024-03."),
    PERIOD_FUTURE: _("The month is in the future."),
    ITEM_UNKNOWN: _("This item code is not in the item catalogue (see the template's item sheet)."),
    QUANTITY_NOT_NUMBER: _("The quantity is not a number."),
    QUANTITY_NEGATIVE: _("The quantity is negative."),
    QUANTITY_INFINITE: _("The quantity is too large to be a real measurement."),
    UNIT_UNKNOWN: _(
        "This unit is not known: write the item's unit %(detail)s, or a spelling listed on the template's unit sheet."
    ),
    UNIT_INCOMPATIBLE: _("This unit cannot be converted to the item's unit %(detail)s."),
    SOURCE_UNKNOWN: _(
        "The data source must be one of meter, invoice, lab, estimate, grid (计量, 发票, 化验, 估算, 电网)."
    ),
    DUPLICATE_IN_BATCH: _("The same enterprise, month, item and facility already appear in row %(detail)s."),
    DUPLICATE_STORED: _(
        "Data for this enterprise, month, item and facility is already stored. To replace it, submit a correction with a reason."
    ),
    MONTH_FROZEN: _("This enterprise-month is frozen (%(detail)s); its data cannot be changed."),
    IDEMPOTENCY_CONFLICT: _("This Idempotency-Key was already used for a different request."),
    CORRECTION_REASON_MISSING: _("A correction needs a reason."),
    EVIDENCE_TYPE: _("Evidence must be a PDF, PNG, JPEG, Excel (.xlsx) or CSV file (%(detail)s)."),
    EVIDENCE_CMA_NOT_LAB: _("Only a laboratory test report can carry the CMA/CNAS mark."),
}

# Used instead of MESSAGES when the error has no detail to show.
WITHOUT_DETAIL = {
    UNIT_UNKNOWN: _("This unit is not known."),
}

ERROR_SCHEMA = {
    "row": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "code": pl.String,
    "detail": pl.String,
}


def empty_errors() -> pl.DataFrame:
    return pl.DataFrame(schema=ERROR_SCHEMA)


def file_error(
    code: str, detail: str = "", *, column: str = "", value: str = "", row: int | None = None
) -> pl.DataFrame:
    """An error frame with one problem about the input as a whole (or its header row)."""
    return pl.DataFrame(
        {"row": [row], "column": [column], "value": [value], "code": [code], "detail": [detail]},
        schema=ERROR_SCHEMA,
    )


def message(code: str, *, value: str = "", column: str = "", detail: str = "") -> str:
    """The message of an error in the active language."""
    template = MESSAGES.get(code) if detail or code not in WITHOUT_DETAIL else WITHOUT_DETAIL[code]
    if template is None:
        return code
    return str(template) % {"value": value, "column": column, "detail": detail}


class FileProblem(Exception):
    """The input cannot be read as a table at all; carries its (one-row) error frame."""

    def __init__(self, code: str, detail: str = "", **kwargs):
        super().__init__(code)
        self.code = code
        self.errors = file_error(code, detail, **kwargs)


class IntakeError(Exception):
    """A refused request (not a row problem): idempotency conflict, missing reason, bad evidence."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return message(self.code, detail=self.detail)
