"""Account policy on every request: expired passwords must be changed, required MFA must be enrolled.

Until then the user may only reach the pages that fix it (change password, MFA set-up,
re-authentication, log out, language) and the home page, which tells them what to do;
everything else redirects there (API calls get a 403 with a stable code).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from kiln.accounts.passwords import password_expired
from kiln.accounts.security import mfa_enrolment_pending

# URL names reachable while a policy is pending.
ALWAYS_ALLOWED = frozenset(
    {
        "healthz",
        "readyz",
        "metrics",
        "efficiency-verify",
        "set_language",
        "logout",
        "account_logout",
        "account_change_password",
        "account_set_password",
        "account_reauthenticate",
        "account_inactive",
    }
)


def _url_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.url_name or "") if match else ""


class SecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        name = _url_name(request)
        if name in ALWAYS_ALLOWED or request.path.startswith(("/static/", "/i18n/")):
            return None
        if password_expired(user):
            return self._deny(
                request,
                code="KLN-ACC-101",
                message=_("Your password has expired. Choose a new one to continue."),
                target="account_change_password",
            )
        if name.startswith("mfa_"):
            return None
        if mfa_enrolment_pending(request):
            return self._deny(
                request,
                code="KLN-ACC-102",
                message=_(
                    "Your role requires two-factor authentication. Set up an authenticator app to continue."
                ),
                target="mfa_activate_totp",
            )
        return None

    @staticmethod
    def _deny(request, *, code: str, message: str, target: str):
        if request.path.startswith("/api/"):
            return JsonResponse({"code": code, "detail": str(message)}, status=403)
        if request.method == "GET":
            messages.warning(request, message, fail_silently=True)
        url = reverse(target)
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(url)
