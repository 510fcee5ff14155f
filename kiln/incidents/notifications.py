"""In-app notifications, with e-mail through Django's mail backend when asked (after the transaction commits)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction

from kiln.incidents.models import Notification


def notify(
    users: Iterable,
    *,
    title: str,
    body: str = "",
    url: str = "",
    level: str = "",
    incident=None,
    email: bool = False,
) -> list[Notification]:
    users = list({u.pk: u for u in users if getattr(u, "pk", None)}.values())
    notes = Notification.objects.bulk_create(
        [
            Notification(
                user=u,
                title=title[:200],
                body=body,
                url=url[:300],
                level=level,
                incident=incident,
                emailed=email and bool(u.email),
            )
            for u in users
        ]
    )
    if email:
        messages = [
            (f"[Kiln] {title}", f"{body}\n\n{url}".strip(), settings.DEFAULT_FROM_EMAIL, [u.email])
            for u in users
            if u.email
        ]
        if messages:
            transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
    return notes


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
