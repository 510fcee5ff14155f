"""Screening rules (versioned records), runs, findings with their workflow, and anomaly scores.

A rule is data, not code (domain.md §7.2: the MEE thresholds were not found): each version says
which engine check it runs (``kiln.engine.screening.CHECKS``) with which severity, scope, bounds
and parameters, and how its finding reads in Chinese and English. A version used by a run is
locked; changing a rule makes a new version (DESIGN.md rule 7).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kiln.engine.screening import CHECKS


class Severity(models.TextChoices):
    ERROR = "error", _("blocking error")
    WARNING = "warning", _("warning")


class Level(models.TextChoices):
    """The three-level review (domain.md §3.2): national screening → province technical review → city on-site check."""

    NATIONAL = "national", _("national screening")
    PROVINCE = "province", _("province technical review")
    CITY = "city", _("city on-site check")


LEVEL_ORDER = [Level.NATIONAL, Level.PROVINCE, Level.CITY]
CHECK_CHOICES = [(name, name) for name in CHECKS]


class RuleVersion(models.Model):
    rule_id = models.CharField(_("rule ID"), max_length=32, db_index=True)
    version = models.PositiveSmallIntegerField(_("version"))
    # Not "check": that name is Django's system-check class method on every model.
    engine_check = models.CharField(_("check"), max_length=32, choices=CHECK_CHOICES)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    sector = models.CharField(
        _("sector"),
        max_length=16,
        blank=True,
        help_text=_(
            "Empty for all; an ETS sector (power, cement, steel, aluminium) or a "
            "GB/T 4754 code prefix such as C30."
        ),
    )
    item = models.CharField(_("item"), max_length=64, blank=True, help_text=_("Empty for all items."))
    parameter = models.CharField(_("parameter"), max_length=32, blank=True)
    low = models.FloatField(_("lower bound"), null=True, blank=True)
    high = models.FloatField(_("upper bound"), null=True, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    message_zh = models.TextField(_("message (Chinese)"))
    message_en = models.TextField(_("message (English)"))
    route_to = models.CharField(_("routed to"), max_length=10, choices=Level.choices, default=Level.PROVINCE)
    deadline_days = models.PositiveSmallIntegerField(_("days to answer"), default=15)
    enabled = models.BooleanField(_("enabled"), default=True)
    note = models.TextField(_("note"), blank=True)
    used = models.BooleanField(_("used by a run"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["rule_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["rule_id", "version"], name="rule_version_unique")]
        verbose_name = _("screening rule version")
        verbose_name_plural = _("screening rule versions")

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"

    @property
    def family(self) -> str:
        return CHECKS[self.engine_check].family if self.engine_check in CHECKS else ""

    @property
    def label(self) -> str:
        return f"{self.rule_id}@v{self.version}"

    def message_template(self) -> str:
        return self.message_en if (get_language() or "").startswith("en") else self.message_zh


class ScreeningRun(models.Model):
    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("nightly")
        MANUAL = "manual", _("on demand")
        IMPORT = "import", _("after an import")
        CLI = "cli", _("command line")

    class Status(models.TextChoices):
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    trigger = models.CharField(_("trigger"), max_length=8, choices=Trigger.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DONE)
    region = models.ForeignKey(
        "registry.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("region"),
    )
    first_period = models.CharField(_("from"), max_length=7)
    last_period = models.CharField(_("to"), max_length=7)
    import_batch = models.ForeignKey(
        "intake.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    enterprises = models.PositiveIntegerField(_("enterprises"), default=0)
    input_rows = models.PositiveIntegerField(_("input rows"), default=0)
    findings_total = models.PositiveIntegerField(_("findings"), default=0)
    findings_new = models.PositiveIntegerField(_("new findings"), default=0)
    rule_versions = models.ManyToManyField(RuleVersion, related_name="runs", blank=True)
    skipped = models.JSONField(_("skipped rules"), default=list, blank=True)
    timings = models.JSONField(_("timings (s)"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    elapsed_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("screening run")
        verbose_name_plural = _("screening runs")

    def __str__(self) -> str:
        return f"#{self.pk} {self.first_period}–{self.last_period} ({self.get_trigger_display()})"


class Finding(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ASSIGNED = "assigned", _("assigned")
        ANSWERED = "answered", _("answered")
        VERIFIED = "verified", _("verified")
        CLOSED = "closed", _("closed")
        ESCALATED = "escalated", _("escalated")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        DISMISSED = "dismissed", _("dismissed")

    rule_version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="findings")
    rule_id = models.CharField(_("rule ID"), max_length=32, db_index=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    family = models.CharField(_("family"), max_length=16)
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="findings")
    period = models.CharField(_("period"), max_length=7)
    item = models.CharField(_("item"), max_length=64, blank=True)
    facility = models.CharField(_("facility"), max_length=80, blank=True)
    value = models.FloatField(_("value"), null=True, blank=True)
    low = models.FloatField(_("expected from"), null=True, blank=True)
    high = models.FloatField(_("expected to"), null=True, blank=True)
    reference = models.FloatField(_("reference"), null=True, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="screening_findings",
        verbose_name=_("assignee"),
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    first_run = models.ForeignKey(ScreeningRun, on_delete=models.PROTECT, related_name="+")
    last_run = models.ForeignKey(ScreeningRun, on_delete=models.PROTECT, related_name="+")
    present_in_latest = models.BooleanField(_("found by the latest screening"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["status", "level"], name="finding_status_level"),
            models.Index(fields=["enterprise", "period"], name="finding_enterprise_period"),
        ]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")

    def __str__(self) -> str:
        return f"{self.rule_id} {self.enterprise_id} {self.period} {self.item}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


OPEN_STATUSES = (
    Finding.Status.OPEN,
    Finding.Status.ASSIGNED,
    Finding.Status.ANSWERED,
    Finding.Status.VERIFIED,
    Finding.Status.ESCALATED,
)
TERMINAL_STATUSES = (Finding.Status.CLOSED, Finding.Status.ACKNOWLEDGED, Finding.Status.DISMISSED)


class FindingEvent(models.Model):
    """One step of a finding's timeline: every transition, answer and refused attempt."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=16)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    from_level = models.CharField(max_length=10, blank=True)
    to_level = models.CharField(max_length=10, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(_("comment"), blank=True)
    answer_kind = models.CharField(_("answer"), max_length=12, blank=True)
    evidence = models.ForeignKey(
        "intake.EvidenceFile", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateField(null=True, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("finding event")
        verbose_name_plural = _("finding events")

    def __str__(self) -> str:
        return f"{self.finding_id} {self.action}"


class AnomalyScore(models.Model):
    """How unusual an enterprise-month looked to the statistical detector in one run (for risk-weighted sampling)."""

    run = models.ForeignKey(ScreeningRun, on_delete=models.CASCADE, related_name="scores")
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    period = models.CharField(_("period"), max_length=7)
    score = models.FloatField(_("score"))
    rank = models.PositiveIntegerField(_("rank"))
    driver = models.CharField(_("driver"), max_length=16)
    item = models.CharField(_("item"), max_length=64, blank=True)

    class Meta:
        ordering = ["run", "rank"]
        indexes = [models.Index(fields=["enterprise", "period"], name="anomaly_enterprise_period")]
        verbose_name = _("anomaly score")
        verbose_name_plural = _("anomaly scores")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.period} {self.score:.1f}"
