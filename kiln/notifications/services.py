"""Sending, reading and counting notifications.

``notify`` is called inside the sender's transaction; e-mails go out ``on_commit``, so a rolled-back
change never sends one, and a mail-server problem never breaks the change (it is logged, and the
in-app notification stays). A ``key`` is unique per user: sending the same key again is a no-op, so
reminder tasks and retried callbacks may run any number of times.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from kiln.accounts.models import Membership, User
from kiln.accounts.roles import Perm, permissions_of
from kiln.notifications.models import Notification

log = logging.getLogger(__name__)


def users_with(perm: str, memberships: QuerySet[Membership]) -> list[User]:
    """Active users holding ``perm`` through one of ``memberships`` (active ones only)."""
    roles = [role for role in set(memberships.values_list("role", flat=True)) if perm in permissions_of(role)]
    return list(
        User.objects.filter(
            memberships__in=memberships.filter(role__in=roles, active=True), is_active=True
        ).distinct()
    )


def members_with(organisation, perm: str = Perm.SUBMIT_DATA) -> list[User]:
    """Users of ``organisation`` (an enterprise, an agency …) holding ``perm``."""
    return users_with(perm, Membership.objects.filter(organisation_id=organisation.pk))


def notify(
    users: Iterable,
    *,
    kind: str,
    key: str,
    title: str,
    body: str = "",
    url: str = "",
    level: str = "",
    email: bool = True,
) -> list[Notification]:
    """One notification per user, skipping users who already have ``key``; returns those created.

    ``email``: also e-mail it (after commit) to the users who have an address.
    """
    created = []
    seen = set()
    for user in users:
        if getattr(user, "pk", None) is None or user.pk in seen:
            continue
        seen.add(user.pk)
        if Notification.objects.filter(user=user, key=key[:200]).exists():
            continue
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        user=user,
                        kind=kind[:32],
                        key=key[:200],
                        title=str(title)[:300],
                        body=str(body),
                        url=url[:300],
                        level=level[:3],
                    )
                )
        except IntegrityError:  # a concurrent run created it first
            continue
    ids = [n.pk for n in created if email and n.user.email]
    if ids:
        transaction.on_commit(lambda: send_emails(ids))
    return created


def send_emails(ids: list[int]) -> int:
    """E-mail notifications not e-mailed yet (best effort); returns how many went out."""
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


def mark_read(user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications (or only ``ids`` among them) as read; returns how many."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
