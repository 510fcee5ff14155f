"""Who must use a second factor, and whether this session still has to enrol one."""

from __future__ import annotations

from django.conf import settings

from kiln.accounts.models import Membership
from kiln.accounts.roles import MFA_REQUIRED_ROLES

AUTH_RECORDS_KEY = "account_authentication_methods"  # allauth's per-session record of sign-in steps
STRONG_TYPES = ("totp", "webauthn")


def requires_mfa(user) -> bool:
    """Whether any active role of this user demands a second factor."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(user=user, active=True, role__in=MFA_REQUIRED_ROLES).exists()


def has_mfa(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user_id=user.pk, type__in=STRONG_TYPES).exists()


def signed_in_interactively(request) -> bool:
    """Whether this session was opened through Kiln's sign-in flows (password, SSO), which record each step.

    Every interactive sign-in, including the admin site's, goes through allauth and leaves these
    records; sessions without them were opened programmatically (``Client.force_login`` in tests).
    """
    records = request.session.get(AUTH_RECORDS_KEY) if hasattr(request, "session") else None
    return isinstance(records, list) and bool(records)


def mfa_enrolment_pending(request) -> bool:
    cached = getattr(request, "_kiln_mfa_pending", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    pending = bool(
        settings.KILN_MFA_ENFORCE
        and user is not None
        and user.is_authenticated
        and signed_in_interactively(request)
        and requires_mfa(user)
        and not has_mfa(user)
    )
    request._kiln_mfa_pending = pending
    return pending
