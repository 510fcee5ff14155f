"""Supervision: report submissions and their review, third-party verification, deadlines, on-site sampling.

See ``README.md`` for the workflow. History is never overwritten (DESIGN.md rule 7): every
submission keeps its versions (figures snapshot and hashes), every transition, comment,
information request, extension request and sampling draw stays on record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class ReportType(models.TextChoices):
    ANNUAL = "annual", _("annual report")
    MONTHLY = "monthly", _("monthly report")


class State(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    PRELIMINARY = "preliminary", _("in preliminary review")
    FINAL = "final", _("in final review")
    APPROVED = "approved", _("approved and locked")
    RETURNED = "returned", _("returned for correction")


class Action(models.TextChoices):
    SUBMIT = "submit", _("Submit")
    WITHDRAW = "withdraw", _("Withdraw")
    START_PRELIMINARY = "start_preliminary", _("Start preliminary review")
    PASS_PRELIMINARY = "pass_preliminary", _("Pass to final review")
    RETURN = "return", _("Return for correction")
    APPROVE = "approve", _("Approve and lock")


class Submission(models.Model):
    """One enterprise's report for one period, as it moves through review."""

    enterprise = models.ForeignKey(
        "registry.Enterprise",
        on_delete=models.PROTECT,
        related_name="submissions",
        verbose_name=_("enterprise"),
    )
    report_type = models.CharField(_("report type"), max_length=8, choices=ReportType.choices)
    period = models.CharField(_("period"), max_length=7, help_text="YYYY or YYYY-MM")
    year = models.PositiveSmallIntegerField(_("year"))
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.DRAFT, db_index=True
    )
    # Optimistic lock: every change adds one; a form carries the number it was shown.
    version = models.PositiveIntegerField(_("revision"), default=0)
    current_version = models.ForeignKey(
        "SubmissionVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    preliminary_reviewer = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("preliminary reviewer"),
    )
    final_reviewer = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("final reviewer"),
    )
    preliminary_passed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deadline_extended_to = models.DateField(_("extended deadline"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-year", "-period", "enterprise__credit_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "report_type", "period"], name="one_submission_per_period"
            )
        ]
        indexes = [models.Index(fields=["state", "year"], name="submission_state_year")]
        verbose_name = _("report submission")
        verbose_name_plural = _("report submissions")

    def __str__(self) -> str:
        return f"{self.enterprise.name} {self.period} ({self.get_report_type_display()})"

    @property
    def month(self) -> str | None:
        return self.period if self.report_type == ReportType.MONTHLY else None


class SubmissionVersion(models.Model):
    """What was submitted: the figures snapshot and the hashes that pin it. Resubmission adds a version."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    run = models.ForeignKey(
        "accounting.CalculationRun",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("calculation run"),
    )
    figures = models.JSONField(_("figures"))
    figures_sha256 = models.CharField(_("figures SHA-256"), max_length=64)
    rows_sha256 = models.CharField(_("rows SHA-256"), max_length=64)
    data_sha256 = models.CharField(_("reported data SHA-256"), max_length=64)
    note = models.TextField(_("note from the enterprise"), blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["submission", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="submission_version_unique")
        ]
        verbose_name = _("submission version")
        verbose_name_plural = _("submission versions")

    def __str__(self) -> str:
        return f"{self.submission} v{self.number}"


class Transition(models.Model):
    """One step of the workflow, with who did it and why."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_state = models.CharField(_("from"), max_length=12, choices=State.choices)
    to_state = models.CharField(_("to"), max_length=12, choices=State.choices)
    actor = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    acting_as = models.CharField(_("acting as"), max_length=300, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    version_number = models.PositiveIntegerField(_("version"), null=True, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")

    def __str__(self) -> str:
        return f"{self.submission_id} {self.from_state} → {self.to_state}"


class ReviewComment(models.Model):
    """A reviewer's (or verifier's) comment attached to one data item of a submitted version."""

    class Stage(models.TextChoices):
        PRELIMINARY = "preliminary", _("preliminary review")
        FINAL = "final", _("final review")

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="comments")
    version = models.ForeignKey(
        SubmissionVersion, null=True, on_delete=models.PROTECT, related_name="comments"
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    item_key = models.CharField(_("data item"), max_length=200)
    item_label = models.CharField(_("data item"), max_length=300)
    text = models.TextField(_("comment"))
    author = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)
    response = models.TextField(_("response"), blank=True)
    responded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created", "id"]
        verbose_name = _("review comment")
        verbose_name_plural = _("review comments")

    def __str__(self) -> str:
        return f"{self.item_key}: {self.text[:40]}"


class SelfCheck(models.Model):
    """The enterprise's own check of its data before submitting (one row per run of the checks)."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="self_checks")
    data_sha256 = models.CharField(_("reported data SHA-256"), max_length=64)
    # [{"key", "code", "severity": "error"|"warning", "message", "period", "item", "facility", "source"}]
    results = models.JSONField(_("results"), default=list)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    warnings = models.PositiveIntegerField(_("warnings"), default=0)
    skipped = models.JSONField(_("checks not run"), default=list, blank=True)
    run_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    run_at = models.DateTimeField(_("run at"), auto_now_add=True)

    class Meta:
        ordering = ["-run_at", "-id"]
        verbose_name = _("self-check")
        verbose_name_plural = _("self-checks")

    def __str__(self) -> str:
        return f"{self.submission_id} {self.run_at:%Y-%m-%d %H:%M} E{self.errors} W{self.warnings}"


class Acknowledgement(models.Model):
    """A self-check warning the enterprise explains rather than fixes; reviewers see the explanation."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="acknowledgements")
    key = models.CharField(_("finding"), max_length=300)
    code = models.CharField(_("check"), max_length=40)
    message = models.TextField(_("finding"))
    explanation = models.TextField(_("explanation"))
    by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "key"], name="one_acknowledgement_per_finding")
        ]
        verbose_name = _("acknowledged warning")
        verbose_name_plural = _("acknowledged warnings")

    def __str__(self) -> str:
        return self.key


class InformationRequest(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="information_requests")
    question = models.TextField(_("question"))
    due = models.DateField(_("answer by"), null=True, blank=True)
    asked_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(_("asked"), auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        verbose_name = _("information request")
        verbose_name_plural = _("information requests")

    def __str__(self) -> str:
        return self.question[:60]


class ExtensionRequest(models.Model):
    class Decision(models.TextChoices):
        PENDING = "pending", _("waiting for a decision")
        GRANTED = "granted", _("granted")
        DECLINED = "declined", _("declined")

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="extension_requests")
    reason = models.TextField(_("reason"))
    requested_until = models.DateField(_("new deadline"))
    previous_deadline = models.DateField(_("deadline when asked"))
    requested_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("asked"), auto_now_add=True)
    decision = models.CharField(
        _("decision"), max_length=8, choices=Decision.choices, default=Decision.PENDING
    )
    decision_note = models.TextField(_("note"), blank=True)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("deadline extension request")
        verbose_name_plural = _("deadline extension requests")

    def __str__(self) -> str:
        return f"{self.submission_id} → {self.requested_until}"


# --- third-party verification ----------------------------------------------------------------------------


class ConsultancyEngagement(models.Model):
    """A third party working for an enterprise (consulting, data services): a conflict for verifying it."""

    agency = models.ForeignKey(
        "registry.ThirdPartyAgency",
        on_delete=models.PROTECT,
        related_name="engagements",
        verbose_name=_("agency"),
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        on_delete=models.PROTECT,
        related_name="consultancies",
        verbose_name=_("enterprise"),
    )
    starts = models.DateField(_("from"))
    ends = models.DateField(_("until"), null=True, blank=True)
    scope = models.CharField(_("scope of work"), max_length=300, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-starts"]
        verbose_name = _("consultancy engagement")
        verbose_name_plural = _("consultancy engagements")

    def __str__(self) -> str:
        return f"{self.agency} → {self.enterprise} ({self.starts}–{self.ends or ''})"


class VerificationAssignment(models.Model):
    """The government assigns a verification body (核查机构) to an enterprise and year."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("assigned")
        CONCLUDED = "concluded", _("concluded")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Conclusion(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed: no material misstatement")
        QUALIFIED = "qualified", _("confirmed with observations")
        NOT_CONFIRMED = "not_confirmed", _("not confirmed: material misstatement")

    agency = models.ForeignKey(
        "registry.ThirdPartyAgency",
        on_delete=models.PROTECT,
        related_name="verifications",
        verbose_name=_("verification body"),
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        on_delete=models.PROTECT,
        related_name="verifications",
        verbose_name=_("enterprise"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ASSIGNED)
    assigned_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(_("assigned"), auto_now_add=True)
    # Access to the enterprise's data ends here (the assignment's period).
    access_until = models.DateField(_("access until"))
    conclusion = models.CharField(_("conclusion"), max_length=14, choices=Conclusion.choices, blank=True)
    conclusion_text = models.TextField(_("conclusion"), blank=True)
    verified_total_t = models.FloatField(_("verified total tCO2e"), null=True, blank=True)
    concluded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    concluded_at = models.DateTimeField(_("concluded"), null=True, blank=True)
    report_name = models.CharField(_("signed report"), max_length=255, blank=True)
    report_sha256 = models.CharField(_("report SHA-256"), max_length=64, blank=True)
    report_path = models.CharField(max_length=255, blank=True)
    report_ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)

    class Meta:
        ordering = ["-year", "-assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "year"],
                condition=~Q(status="withdrawn"),
                name="one_live_verification_per_year",
            )
        ]
        verbose_name = _("verification assignment")
        verbose_name_plural = _("verification assignments")

    def __str__(self) -> str:
        return f"{self.agency} · {self.enterprise} {self.year}"


class VerificationFinding(models.Model):
    class Severity(models.TextChoices):
        OBSERVATION = "observation", _("observation")
        NONCONFORMITY = "nonconformity", _("nonconformity")

    assignment = models.ForeignKey(VerificationAssignment, on_delete=models.PROTECT, related_name="findings")
    item_key = models.CharField(_("data item"), max_length=200, blank=True)
    text = models.TextField(_("finding"))
    severity = models.CharField(_("severity"), max_length=14, choices=Severity.choices)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        verbose_name = _("verification finding")
        verbose_name_plural = _("verification findings")

    def __str__(self) -> str:
        return self.text[:60]


# --- deadlines and notifications ---------------------------------------------------------------------------


class DeadlineKind(models.TextChoices):
    MONTHLY_DEPOSIT = "monthly_deposit", _("monthly evidence deposit")
    MONTHLY_REPORT = "monthly_report", _("monthly report")
    ANNUAL_REPORT = "annual_report", _("annual report")


class DeadlinePolicy(models.Model):
    """When something is due: N (calendar or working) days after the period ends, or a fixed day next year."""

    class Anchor(models.TextChoices):
        AFTER_PERIOD = "after_period", _("days after the period ends")
        FIXED_DAY = "fixed_day", _("fixed day of the following year")

    kind = models.CharField(_("report type"), max_length=16, choices=DeadlineKind.choices, unique=True)
    anchor = models.CharField(
        _("deadline rule"), max_length=12, choices=Anchor.choices, default=Anchor.AFTER_PERIOD
    )
    days = models.PositiveIntegerField(_("days"), default=40)
    working_days = models.BooleanField(_("count working days only"), default=False)
    fixed_month = models.PositiveSmallIntegerField(_("month (fixed day)"), null=True, blank=True)
    fixed_day = models.PositiveSmallIntegerField(_("day (fixed day)"), null=True, blank=True)
    roll_forward = models.BooleanField(
        _("move a deadline on a non-working day to the next working day"), default=True
    )
    reminder_days = models.JSONField(_("remind this many days before"), default=list, blank=True)
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")

    def __str__(self) -> str:
        return self.get_kind_display()


class Holiday(models.Model):
    """A public holiday, or (``workday``) a weekend day that is a working day (调休)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    workday = models.BooleanField(_("working day (make-up day)"), default=False)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday or make-up working day")
        verbose_name_plural = _("holidays and make-up working days")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


# --- on-site sampling (市级现场抽查) ---------------------------------------------------------------------------


class SamplingDraw(models.Model):
    """One reproducible random draw of enterprises for on-site checks. Never redrawn in place."""

    class Strata(models.TextChoices):
        COUNTY = "county", _("county/district")
        INDUSTRY = "industry", _("industry (GB/T 4754 division)")

    region = models.ForeignKey(
        "registry.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    size = models.PositiveIntegerField(_("sample size"))
    stratify_by = models.CharField(_("strata"), max_length=10, choices=Strata.choices)
    seed = models.BigIntegerField(_("random seed"))
    weights = models.JSONField(_("risk weights"), default=dict)
    # The population as drawn from: [[enterprise_id, credit_code, stratum, weight], ...] sorted by credit code.
    frame = models.JSONField(_("population"), default=list)
    population_sha256 = models.CharField(_("population SHA-256"), max_length=64)
    allocation = models.JSONField(_("allocation per stratum"), default=dict)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        verbose_name=_("replaces"),
    )
    reason = models.TextField(_("reason"), blank=True)
    drawn_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField(_("drawn"), auto_now_add=True)

    class Meta:
        ordering = ["-drawn_at", "-id"]
        verbose_name = _("sampling draw")
        verbose_name_plural = _("sampling draws")

    def __str__(self) -> str:
        return f"#{self.pk} {self.region.code} {self.year} n={self.size}"


class SampledEnterprise(models.Model):
    class Result(models.TextChoices):
        PENDING = "pending", _("not yet inspected")
        NO_ISSUES = "no_issues", _("no issues found")
        ISSUES = "issues", _("issues found")
        NOT_INSPECTED = "not_inspected", _("could not be inspected")

    draw = models.ForeignKey(SamplingDraw, on_delete=models.PROTECT, related_name="sampled")
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+")
    stratum = models.CharField(_("stratum"), max_length=20)
    weight = models.FloatField(_("risk weight"))
    rank = models.PositiveIntegerField(_("order drawn"))
    result = models.CharField(
        _("on-site result"), max_length=14, choices=Result.choices, default=Result.PENDING
    )
    result_note = models.TextField(_("what was found"), blank=True)
    inspected_on = models.DateField(_("inspected on"), null=True, blank=True)
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), null=True, blank=True)

    class Meta:
        ordering = ["draw", "rank"]
        constraints = [models.UniqueConstraint(fields=["draw", "enterprise"], name="sampled_once_per_draw")]
        verbose_name = _("sampled enterprise")
        verbose_name_plural = _("sampled enterprises")

    def __str__(self) -> str:
        return f"{self.draw_id}: {self.enterprise_id}"
