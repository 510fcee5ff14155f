"""One in-app notification per user and key: the bell in the top bar, the list page, and e-mail.

Every app notifies through ``kiln.notifications.services.notify``: review (deadline reminders,
workflow steps), incidents (by response level), screening (finding assignments).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message to one user. ``key`` is unique per user, so whatever sends it twice (a daily
    reminder task run again, a retried callback) delivers it once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # What sent it: "deadline", "review", "verification", "incident", "screening" ...
    kind = models.CharField(_("kind"), max_length=32)
    key = models.CharField(max_length=200)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # An incident's response level (I, II, III) shown as a coloured badge; blank for everything else.
    level = models.CharField(_("response level"), max_length=3, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed = models.BooleanField(_("e-mailed"), default=False)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_user_and_key")
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title

    @property
    def colour(self) -> str:
        return {"I": "red", "II": "orange", "III": "yellow"}.get(self.level, "")
