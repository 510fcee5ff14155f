"""In-app notifications, also e-mailed (Django's mail backend) to users who have an address.

``notify`` is called inside a service's transaction; the e-mail goes out ``on_commit`` so a rolled-back
change never sends one. A notification ``key`` is unique per user, so the daily reminder task can run
any number of times and each reminder arrives once.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from kiln.accounts.models import Membership, User
from kiln.accounts.roles import Perm, permissions_of
from kiln.review.models import Notification

log = logging.getLogger(__name__)


def users_with(perm: str, memberships: QuerySet[Membership]) -> list[User]:
    roles = [
        role
        for role in {m for m in memberships.values_list("role", flat=True)}
        if perm in permissions_of(role)
    ]
    return list(
        User.objects.filter(
            memberships__in=memberships.filter(role__in=roles, active=True), is_active=True
        ).distinct()
    )


def enterprise_users(enterprise, perm: str = Perm.SUBMIT_DATA) -> list[User]:
    return users_with(perm, Membership.objects.filter(organisation_id=enterprise.pk))


def notify(users, *, kind: str, key: str, title: str, body: str = "", url: str = "") -> int:
    """Create one notification per user (skipping those that already have ``key``); returns how many."""
    created = []
    for user in users:
        if Notification.objects.filter(user=user, key=key).exists():
            continue
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        user=user,
                        kind=kind,
                        key=key[:200],
                        title=str(title)[:300],
                        body=str(body),
                        url=url[:300],
                    )
                )
        except IntegrityError:  # a concurrent run created it first
            continue
    ids = [n.pk for n in created if n.user.email]
    if ids:
        transaction.on_commit(lambda: send_emails(ids))
    return len(created)


def send_emails(ids: list[int]) -> int:
    """E-mail notifications (best effort: a mail server problem never breaks the change that caused them)."""
    sent = 0
    for notification in Notification.objects.filter(pk__in=ids, emailed=False).select_related("user"):
        link = f"{settings.KILN_SITE_URL.rstrip('/')}{notification.url}" if notification.url else ""
        try:
            with translation.override(settings.LANGUAGE_CODE):
                send_mail(
                    subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{notification.title}",
                    message="\n\n".join(p for p in (notification.body, link) if p),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    recipient_list=[notification.user.email],
                )
        except Exception:  # noqa: BLE001 - logged; the in-app notification stays
            log.exception("could not e-mail notification %s", notification.pk)
            continue
        Notification.objects.filter(pk=notification.pk).update(emailed=True)
        sent += 1
    return sent


def mark_read(user, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
