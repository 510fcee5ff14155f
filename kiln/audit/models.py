"""The audit log: append-only rows chained by SHA-256 over canonical JSON."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiln.audit.events import EventType, group_of

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One thing that happened. Rows are never updated or deleted (database triggers refuse it).

    ``actor`` and ``organisation`` are plain references without database constraints, with the
    names copied into ``*_label`` at the time: the row must outlive whatever it points at.
    """

    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    event_type = models.PositiveSmallIntegerField(_("event"), choices=EventType.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    organisation = models.ForeignKey(
        "registry.Organisation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("organisation"),
    )
    organisation_label = models.CharField(_("organisation"), max_length=200, blank=True)
    region_code = models.CharField(_("region"), max_length=6, blank=True)
    region_path = models.CharField(max_length=64, blank=True, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True, db_index=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True, db_index=True)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["event_type", "time"], name="audit_type_time")]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_event_type_display()} {self.actor_label}"

    @property
    def group(self) -> int:
        return group_of(self.event_type)
