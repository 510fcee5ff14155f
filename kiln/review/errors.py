"""Stable codes of the review app (DESIGN.md rule 4). Every refusal is one of these, translated."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# workflow
NOT_ALLOWED_NOW = "REV-NOT-ALLOWED-NOW"
NOT_YOUR_TURN = "REV-NOT-YOUR-ROLE"
STALE = "REV-STALE"
SELF_CHECK_MISSING = "REV-SELF-CHECK-MISSING"
SELF_CHECK_STALE = "REV-SELF-CHECK-STALE"
SELF_CHECK_ERRORS = "REV-SELF-CHECK-ERRORS"
WARNINGS_OPEN = "REV-WARNINGS-NOT-ACKNOWLEDGED"
COMMENT_REQUIRED = "REV-COMMENT-REQUIRED"
SAME_REVIEWER = "REV-SAME-REVIEWER"
LOCKED = "REV-LOCKED"
INFO_OPEN = "REV-INFO-OPEN"
VERIFICATION_PENDING = "REV-VERIFICATION-PENDING"
VERIFICATION_FAILED = "REV-VERIFICATION-FAILED"
BAD_ITEM = "REV-BAD-ITEM"
EXPLANATION_REQUIRED = "REV-EXPLANATION-REQUIRED"
UNKNOWN_FINDING = "REV-UNKNOWN-FINDING"
BAD_PERIOD = "REV-BAD-PERIOD"
NO_RESULTS = "REV-NO-RESULTS"
RUN_NOT_STALE = "REV-RUN-NOT-STALE"
RECALCULATION_FAILED = "REV-RECALCULATION-FAILED"
# information requests and deadlines
QUESTION_REQUIRED = "REV-QUESTION-REQUIRED"
ALREADY_ANSWERED = "REV-ALREADY-ANSWERED"
DEADLINE_PASSED = "REV-DEADLINE-PASSED"
EXTENSION_NOT_LATER = "REV-EXTENSION-NOT-LATER"
EXTENSION_DECIDED = "REV-EXTENSION-DECIDED"
EXTENSION_PENDING = "REV-EXTENSION-PENDING"
BAD_ASSIGNEE = "REV-BAD-ASSIGNEE"
# verification
COI = "REV-CONFLICT-OF-INTEREST"
NOT_A_VERIFIER = "REV-NOT-A-VERIFICATION-BODY"
ALREADY_ASSIGNED = "REV-ALREADY-ASSIGNED"
NOT_YOUR_ASSIGNMENT = "REV-NOT-YOUR-ASSIGNMENT"
ASSIGNMENT_CLOSED = "REV-ASSIGNMENT-CLOSED"
BAD_CONCLUSION = "REV-BAD-CONCLUSION"
REPORT_FILE = "REV-REPORT-FILE"
NOT_A_CONSULTANCY = "REV-NOT-A-THIRD-PARTY"
# sampling
SAMPLE_SIZE = "REV-SAMPLE-SIZE"
NOT_A_CITY = "REV-NOT-A-CITY"
REASON_REQUIRED = "REV-REASON-REQUIRED"
BAD_RESULT = "REV-BAD-RESULT"
SUPERSEDED = "REV-DRAW-SUPERSEDED"

MESSAGES = {
    NOT_ALLOWED_NOW: _("This action is not possible while the report is %(state)s."),
    NOT_YOUR_TURN: _("Your role may not do this at this stage of the review."),
    STALE: _(
        "Someone else acted on this report a moment ago. The page now shows its current state; check it and try again."
    ),
    SELF_CHECK_MISSING: _("Run the self-check before submitting."),
    SELF_CHECK_STALE: _("The data changed since the last self-check. Run the self-check again."),
    SELF_CHECK_ERRORS: _(
        "The self-check found blocking errors. Fix the data, then run the self-check again."
    ),
    WARNINGS_OPEN: _("Every self-check warning needs a written explanation before you submit."),
    COMMENT_REQUIRED: _("Say what must be corrected: a return needs at least one comment."),
    SAME_REVIEWER: _("The final review must be done by someone other than the preliminary reviewer."),
    LOCKED: _("This report is approved and its data are locked; nothing can be changed."),
    INFO_OPEN: _("An information request is still unanswered."),
    VERIFICATION_PENDING: _("The verification body has not given its conclusion yet."),
    VERIFICATION_FAILED: _("The verification body did not confirm the report; return it for correction."),
    BAD_ITEM: _("Comments can only be attached to data items of this report."),
    EXPLANATION_REQUIRED: _("Write an explanation for the warning."),
    UNKNOWN_FINDING: _("That warning is not in the latest self-check."),
    BAD_PERIOD: _("The period must be a year (YYYY) or a month (YYYY-MM) that has ended."),
    NO_RESULTS: _("There are no official results for this enterprise and period yet."),
    RUN_NOT_STALE: _(
        "The latest self-check does not report an out-of-date official calculation: there is nothing to recalculate."
    ),
    RECALCULATION_FAILED: _("The recalculation failed: %(detail)s"),
    QUESTION_REQUIRED: _("Write the question."),
    ALREADY_ANSWERED: _("This request has already been answered."),
    DEADLINE_PASSED: _(
        "The deadline (%(deadline)s) has passed: an extension can only be requested before it."
    ),
    EXTENSION_NOT_LATER: _("The new date must be after the current deadline (%(deadline)s)."),
    EXTENSION_DECIDED: _("This extension request has already been decided."),
    EXTENSION_PENDING: _("An extension request is already waiting for a decision."),
    BAD_ASSIGNEE: _("That person cannot review this report."),
    COI: _("This verification body is engaged as a consultant of the enterprise: it cannot verify it."),
    NOT_A_VERIFIER: _("Only an accredited verification body can be assigned."),
    ALREADY_ASSIGNED: _("A verification body is already assigned to this enterprise and year."),
    NOT_YOUR_ASSIGNMENT: _("This verification is assigned to another body."),
    ASSIGNMENT_CLOSED: _("This verification is closed."),
    BAD_CONCLUSION: _("Choose a conclusion."),
    REPORT_FILE: _("Upload the signed verification report as a PDF."),
    NOT_A_CONSULTANCY: _("Only a third-party agency can be engaged."),
    SAMPLE_SIZE: _("The sample size must be between 1 and the number of enterprises (%(population)d)."),
    NOT_A_CITY: _("Draw samples for a city or a county."),
    REASON_REQUIRED: _("Say why the sample is drawn again."),
    BAD_RESULT: _("Choose the result of the on-site check."),
    SUPERSEDED: _("This draw has been replaced by a newer one."),
}


class ReviewError(Exception):
    """A refusal: a stable code, a translated message, and nothing changed."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(f"{code}: {self.message}")

    @property
    def message(self) -> str:
        text = str(MESSAGES.get(self.code, self.code))
        return text % self.params if self.params else text
