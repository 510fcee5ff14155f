"""Kiln's django-allauth adapters: no public sign-up, SSO only for known people, MFA secrets encrypted."""

from __future__ import annotations

import base64
import hashlib
import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from cryptography.fernet import Fernet
from django.conf import settings
from django.urls import reverse

from kiln.accounts.security import AUTH_RECORDS_KEY, requires_mfa


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Accounts come from administrators (invitations) and identity providers (SCIM, SSO).
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Sensitive actions need a sign-in step (login or re-authentication) in the last few minutes."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = getattr(context, "request", None)
        if request is None or not hasattr(request, "session"):
            return True
        records = request.session.get(AUTH_RECORDS_KEY)
        if not isinstance(records, list) or not records:
            return True
        last = max((r.get("at", 0) for r in records if isinstance(r, dict)), default=0)
        return time.time() - last >= settings.ACCOUNT_REAUTHENTICATION_TIMEOUT

    def get_login_redirect_url(self, request) -> str:
        from kiln.accounts.security import mfa_enrolment_pending

        if mfa_enrolment_pending(request):
            return reverse("mfa_activate_totp")
        return super().get_login_redirect_url(request)

    def pre_login(self, request, user, **kwargs):
        if getattr(user, "deleted_at", None) is not None:
            user.is_active = False  # a deleted account answers like an inactive one
        return super().pre_login(request, user, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on logs in people Kiln already knows; new people only if KILN_OIDC_AUTO_CREATE."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return settings.KILN_OIDC_AUTO_CREATE

    def pre_social_login(self, request, sociallogin) -> None:
        if sociallogin.is_existing:
            return
        from kiln.accounts.models import User

        verified = [e.email for e in sociallogin.email_addresses if e.verified and e.email]
        for email in verified:
            matches = list(User.objects.filter(email__iexact=email, deleted_at__isnull=True)[:2])
            if len(matches) == 1:
                sociallogin.connect(request, matches[0])
                return

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        from kiln.audit.events import EventType
        from kiln.audit.services import record

        record(
            EventType.SSO_REJECTED,
            actor=None,
            target=("socialaccount.provider", getattr(provider, "id", ""), getattr(provider, "name", "")),
            after={"error": str(error or ""), "reason": str(exception or "")[:300]},
            request=request,
        )

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.display_name = (data.get("name") or "")[:100]
        return user


def _fernet() -> Fernet:
    key = hashlib.sha256(b"kiln.mfa:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        """TOTP secrets are stored encrypted (Fernet, key derived from SECRET_KEY)."""
        return "fernet:" + _fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if encrypted_text.startswith("fernet:"):
            return _fernet().decrypt(encrypted_text.removeprefix("fernet:").encode()).decode()
        return encrypted_text

    def get_totp_issuer(self) -> str:
        return settings.MFA_TOTP_ISSUER

    def can_delete_authenticator(self, authenticator) -> bool:
        """Users whose role requires MFA cannot remove their last strong second factor."""
        from allauth.mfa.models import Authenticator

        if authenticator.type not in (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN):
            return True
        user = authenticator.user
        if not requires_mfa(user):
            return True
        others = Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exclude(pk=authenticator.pk)
        return others.exists()
