"""Stable codes of refused screening actions (DESIGN.md rule 4); the message is a translation of the code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ScreeningError(Exception):
    """A refused action: ``code`` is stable, ``message`` translated (with ``params`` filled in)."""

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> str:
        template = str(MESSAGES.get(self.code, self.code))
        try:
            return template % {k: str(v) for k, v in self.params.items()}
        except (KeyError, ValueError):
            return template

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


ILLEGAL_TRANSITION = "KLN-FIND-ILLEGAL-TRANSITION"
NOT_ALLOWED = "KLN-FIND-NOT-ALLOWED"
REASON_REQUIRED = "KLN-FIND-REASON-REQUIRED"
WARNING_ONLY = "KLN-FIND-WARNING-ONLY"
NO_NEXT_LEVEL = "KLN-FIND-NO-NEXT-LEVEL"
ASSIGNEE_INVALID = "KLN-FIND-ASSIGNEE"
DEADLINE_INVALID = "KLN-FIND-DEADLINE"
RULE_USED = "KLN-RULE-USED"
RULE_INVALID = "KLN-RULE-INVALID"
RULE_UNKNOWN_CHECK = "KLN-RULE-UNKNOWN-CHECK"
RULE_ID_TAKEN = "KLN-RULE-ID-TAKEN"
RUN_PERIOD = "KLN-RUN-PERIOD"
RUN_FAILED = "KLN-RUN-FAILED"

MESSAGES = {
    ILLEGAL_TRANSITION: _("A finding that is %(status)s cannot be %(action)s."),
    NOT_ALLOWED: _("You may not %(action)s this finding."),
    REASON_REQUIRED: _("Give a reason."),
    WARNING_ONLY: _(
        "Only warnings can be acknowledged; a blocking error must be corrected or explained and verified."
    ),
    NO_NEXT_LEVEL: _("The city on-site check is the last level: there is no level to escalate to."),
    ASSIGNEE_INVALID: _("Choose a reviewer who works at the finding's level and may see the enterprise."),
    DEADLINE_INVALID: _("The deadline must be today or later."),
    RULE_USED: _(
        "This rule version has been used by a screening run and cannot change; save a new version instead."
    ),
    RULE_INVALID: _("The rule is not valid: %(detail)s"),
    RULE_UNKNOWN_CHECK: _("Unknown check: %(check)s."),
    RULE_ID_TAKEN: _("A rule with this ID already exists."),
    RUN_PERIOD: _("Give a month (YYYY-MM) or a year (YYYY)."),
    RUN_FAILED: _("The screening run failed: %(detail)s"),
}
