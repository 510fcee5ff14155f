"""Metered electricity from the grid company: the independent source reported electricity is checked against.

One ``MeterReading`` is one enterprise × day (``date`` set) or one enterprise × month (``date``
null, ``period`` set), in kWh. Re-sent readings never overwrite: the old row is marked not
current and points at the batch that replaced it (DESIGN.md rule 7).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MeterBatch(models.Model):
    """One delivery of meter readings through any door (upload, API, command line, demo)."""

    class Door(models.TextChoices):
        API = "api", _("REST API")
        UPLOAD = "upload", _("file upload")
        CLI = "cli", _("command line")
        DEMO = "demo", _("demo data")

    class Status(models.TextChoices):
        IMPORTED = "imported", _("imported")
        REJECTED = "rejected", _("rejected")
        CHECKED = "checked", _("checked (dry run)")

    door = models.CharField(_("door"), max_length=8, choices=Door.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    organisation = models.ForeignKey(
        "registry.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    source_format = models.CharField(_("format"), max_length=32, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("new readings"), default=0)
    replaced_count = models.PositiveIntegerField(_("replaced readings"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    # {"counts": {code: n}, "errors": [{row, column, value, code}], "truncated": bool}
    report = models.JSONField(_("error report"), default=dict, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("meter reading batch")
        verbose_name_plural = _("meter reading batches")

    def __str__(self) -> str:
        return f"#{self.pk} {self.door} {self.status} ({self.rows})"


class MeterReading(models.Model):
    # Bulk-written like activity records: no database-level foreign keys (see kiln.intake.models).
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        on_delete=models.PROTECT,
        related_name="meter_readings",
        db_index=False,
        db_constraint=False,
    )
    date = models.DateField(_("date"), null=True, blank=True, help_text=_("empty for a monthly reading"))
    period = models.CharField(_("period"), max_length=7, help_text="YYYY-MM")
    kwh = models.FloatField(_("kWh"))
    batch = models.ForeignKey(
        MeterBatch, on_delete=models.PROTECT, related_name="readings", db_constraint=False
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    current = models.BooleanField(_("current"), default=True)
    superseded_by = models.ForeignKey(
        MeterBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        indexes = [models.Index(fields=["period", "enterprise"], name="meter_period_ent")]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "date"],
                condition=Q(current=True, date__isnull=False),
                name="meter_one_current_daily",
            ),
            models.UniqueConstraint(
                fields=["enterprise", "period"],
                condition=Q(current=True, date__isnull=True),
                name="meter_one_current_monthly",
            ),
        ]
        verbose_name = _("meter reading")
        verbose_name_plural = _("meter readings")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.date or self.period} {self.kwh} kWh"
