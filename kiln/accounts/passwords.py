"""Password policy: character classes, history of previous passwords, lifetime.

Configured in settings (``KILN_PASSWORD_*``); see ``AUTH_PASSWORD_VALIDATORS``.
Django calls ``password_changed`` on every validator after a user with a new password
is saved, which is where the history and the change time are recorded.
"""

from __future__ import annotations

import string
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

CLASSES = {
    "lower": str.islower,
    "upper": str.isupper,
    "digit": str.isdigit,
    "symbol": lambda ch: ch in string.punctuation or (not ch.isalnum() and not ch.isspace()),
}


def character_classes(password: str) -> set[str]:
    return {name for name, test in CLASSES.items() if any(test(ch) for ch in password)}


class CharacterClassesValidator:
    """At least ``min_classes`` of: lower-case letters, upper-case letters, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = max(0, min(int(min_classes), len(CLASSES)))

    def validate(self, password: str, user=None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                _(
                    "This password must mix at least %(min_classes)d of: lower-case letters, "
                    "upper-case letters, digits and symbols."
                ),
                code="password_too_simple",
                params={"min_classes": self.min_classes},
            )

    def get_help_text(self) -> str:
        return _(
            "Your password must mix at least %(min_classes)d of: lower-case letters, "
            "upper-case letters, digits and symbols."
        ) % {"min_classes": self.min_classes}


class PasswordHistoryValidator:
    """Refuses the current password and the previous ``history`` ones; records each change."""

    def __init__(self, history: int = 5):
        self.history = max(0, int(history))

    def validate(self, password: str, user=None) -> None:
        if user is None or not getattr(user, "pk", None) or self.history == 0:
            return
        from kiln.accounts.models import PasswordHistory

        previous = list(
            PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[: self.history]
        )
        if user.password and user.has_usable_password():
            previous.append(user.password)
        if any(check_password(password, encoded) for encoded in previous):
            raise ValidationError(
                ngettext(
                    "You cannot reuse your last password.",
                    "You cannot reuse any of your last %(count)d passwords.",
                    self.history,
                )
                % {"count": self.history},
                code="password_reused",
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must differ from your last password.",
            "Your password must differ from your last %(count)d passwords.",
            self.history,
        ) % {"count": self.history}

    def password_changed(self, password: str, user=None) -> None:
        if user is None or not getattr(user, "pk", None):
            return
        record_password_change(user)


def record_password_change(user) -> None:
    """Keep the new hash in the history (trimmed to the policy's length) and stamp the change time."""
    from kiln.accounts.models import PasswordHistory, User

    now = timezone.now()
    PasswordHistory.objects.create(user=user, password=user.password, created=now)
    keep = max(settings.KILN_PASSWORD_HISTORY, 1)
    stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[keep:]
    PasswordHistory.objects.filter(pk__in=list(stale)).delete()
    User.objects.filter(pk=user.pk).update(password_changed_at=now)
    user.password_changed_at = now


def password_expired(user) -> bool:
    """True when the policy gives passwords a lifetime and this user's password has outlived it."""
    max_age = settings.KILN_PASSWORD_MAX_AGE_DAYS
    if max_age <= 0 or not user.has_usable_password():
        return False
    changed = user.password_changed_at or user.date_joined
    return changed + timedelta(days=max_age) <= timezone.now()
