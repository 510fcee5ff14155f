"""Stable codes of the reports app (DESIGN.md rule 4); the message is a translation of the code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

NO_OFFICIAL_RUN = "REP-NO-OFFICIAL-RUN"
NOT_IN_RUN = "REP-NOT-IN-RUN"
BAD_PERIOD = "REP-BAD-PERIOD"
BAD_FORMAT = "REP-BAD-FORMAT"
TEMPLATE_INVALID = "REP-TEMPLATE-INVALID"
TEMPLATE_RENDER = "REP-TEMPLATE-RENDER"
TEMPLATE_TOO_LARGE = "REP-TEMPLATE-TOO-LARGE"
NOTHING_TO_REPORT = "REP-NOTHING-TO-REPORT"
OUT_OF_SCOPE = "REP-OUT-OF-SCOPE"

MESSAGES = {
    NO_OFFICIAL_RUN: _("There is no official calculation for this enterprise's region and year yet."),
    NOT_IN_RUN: _("The official calculation has no results for this enterprise and period."),
    BAD_PERIOD: _("The period must be a year (YYYY) or a month (YYYY-MM) that has ended."),
    BAD_FORMAT: _("The format must be pdf or docx."),
    TEMPLATE_INVALID: _("The template cannot be used: %(detail)s"),
    TEMPLATE_RENDER: _("The report template failed while rendering: %(detail)s"),
    TEMPLATE_TOO_LARGE: _("The template file is too large."),
    NOTHING_TO_REPORT: _("No enterprise in this region has official results for this year."),
    OUT_OF_SCOPE: _("No longer within what the requester may see, so it was left out of the job."),
}


class ReportError(Exception):
    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(f"{code}: {self.message}")

    @property
    def message(self) -> str:
        text = str(MESSAGES.get(self.code, self.code))
        return text % self.params if self.params else text
