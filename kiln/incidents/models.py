"""Data incidents and the response to them: levels, owner, timeline, playbooks, freezes.

Notifications (by level; e-mail for levels I and II) go through ``kiln.notifications``.

The practice types incidents as data-collection anomalies, policy changes (a new factor set
that changes the numbers), system security events and client crises; each is handled at response
level I, II or III (red, orange, yellow), following a standard checklist (playbook) for its type,
and ends with a report (处置报告) and a post-incident review.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    DATA_COLLECTION = "data_collection", _("data-collection anomaly")
    POLICY_CHANGE = "policy_change", _("policy change")
    SYSTEM_SECURITY = "system_security", _("system security")
    CLIENT_CRISIS = "client_crisis", _("client crisis")


class ResponseLevel(models.TextChoices):
    ONE = "I", _("level I (red)")
    TWO = "II", _("level II (orange)")
    THREE = "III", _("level III (yellow)")


LEVEL_COLOURS = {ResponseLevel.ONE: "red", ResponseLevel.TWO: "orange", ResponseLevel.THREE: "yellow"}


class Incident(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RESPONDING = "responding", _("responding")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    level = models.CharField(_("response level"), max_length=3, choices=ResponseLevel.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    region = models.ForeignKey(
        "registry.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_incidents",
        verbose_name=_("owner"),
    )
    summary = models.TextField(_("what happened"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # A policy change: the new factor set and the recomputation it caused (accounting compare page).
    factor_set = models.ForeignKey(
        "factors.FactorSet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("new factor set"),
    )
    base_run = models.ForeignKey(
        "accounting.CalculationRun",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("run before"),
    )
    other_run = models.ForeignKey(
        "accounting.CalculationRun",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recomputed run"),
    )
    findings = models.ManyToManyField("screening.Finding", related_name="incidents", blank=True)
    # Post-incident review (事后复盘)
    unforeseen = models.TextField(_("what was not foreseen"), blank=True)
    improvements = models.TextField(_("what to improve"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def colour(self) -> str:
        return LEVEL_COLOURS.get(self.level, "yellow")

    @property
    def compare_url(self) -> str:
        if self.base_run_id and self.other_run_id:
            return f"/accounting/compare/?base={self.base_run_id}&other={self.other_run_id}"
        return ""


class IncidentAction(models.Model):
    """One entry of an incident's timeline."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("opened")
        NOTE = "note", _("note")
        STATUS = "status", _("status changed")
        LEVEL = "level", _("response level changed")
        OWNER = "owner", _("owner changed")
        STEP = "step", _("checklist step")
        FREEZE = "freeze", _("data frozen")
        RELEASE = "release", _("data released")
        FINDING = "finding", _("findings linked")
        RECOMPUTE = "recompute", _("recomputation")
        NOTIFY = "notify", _("notification sent")
        REVIEW = "review", _("post-incident review")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("incident action")
        verbose_name_plural = _("incident actions")

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind}"


class Playbook(models.Model):
    """The standard operating procedure (SOP checklist) for one incident type; editable by experts."""

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, unique=True)
    steps_zh = models.JSONField(_("steps (Chinese)"), default=list)
    steps_en = models.JSONField(_("steps (English)"), default=list)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")

    def __str__(self) -> str:
        return self.get_kind_display()


class IncidentStep(models.Model):
    """A checklist step copied from the playbook when the incident opened (later playbook edits don't change it)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    text_zh = models.CharField(max_length=300)
    text_en = models.CharField(max_length=300)
    done = models.BooleanField(default=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "position"]
        verbose_name = _("checklist step")
        verbose_name_plural = _("checklist steps")

    def __str__(self) -> str:
        return f"{self.incident_id}.{self.position}"


class IncidentFreeze(models.Model):
    """An enterprise-month frozen (intake's freeze) because of the incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="freezes")
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=7)
    frozen_at = models.DateTimeField(_("frozen"), auto_now_add=True)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)

    class Meta:
        ordering = ["incident", "enterprise", "period"]
        verbose_name = _("incident freeze")
        verbose_name_plural = _("incident freezes")

    def __str__(self) -> str:
        return f"{self.incident_id} {self.enterprise_id} {self.period}"
