"""API tokens (DESIGN.md rule 6): a type prefix plus a keyed hash, compared in constant time.

A token reads ``kiln_<8 characters>_<secret>``. The database keeps ``kiln_<8 characters>``
(to find the row and to show in lists) and HMAC-SHA256(SECRET_KEY, token); the secret itself
is shown once, when the token is created.

``token_or_session`` is the django-ninja authentication for the REST API: a Bearer token, or
else the Django session (with its CSRF check). A token acts as the membership it was created
under; ``read`` tokens may only use safe methods, ``write`` tokens any method.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from kiln.accounts.models import ApiToken

TOKEN_TYPE = "kiln"  # noqa: S105 - the token type prefix, not a secret
_ALPHABET = string.ascii_lowercase + string.digits
PUBLIC_ID_LENGTH = 8
SECRET_LENGTH = 40
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LAST_USED_RESOLUTION = timedelta(seconds=60)


def key_hash(token: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), token.encode(), hashlib.sha256).hexdigest()


def new_token() -> tuple[str, str, str]:
    """A fresh (token, prefix, key_hash)."""
    public = "".join(secrets.choice(_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(SECRET_LENGTH))
    prefix = f"{TOKEN_TYPE}_{public}"
    token = f"{prefix}_{secret}"
    return token, prefix, key_hash(token)


def _split(token: str) -> str | None:
    parts = token.strip().split("_")
    if len(parts) != 3 or parts[0] != TOKEN_TYPE or len(parts[1]) != PUBLIC_ID_LENGTH:
        return None
    return f"{parts[0]}_{parts[1]}"


def resolve(token: str, *, ip: str | None = None) -> ApiToken | None:
    """The usable token this string is, or None (unknown, wrong secret, revoked, expired, owner gone)."""
    if not token:
        return None
    prefix = _split(token)
    if prefix is None:
        return None
    found = (
        ApiToken.objects.select_related("user", "membership__organisation__region")
        .filter(prefix=prefix)
        .first()
    )
    # Compare even when no row matched, so timing does not reveal which prefixes exist.
    expected = found.key_hash if found is not None else key_hash("kiln_none_" + prefix)
    if not hmac.compare_digest(expected, key_hash(token.strip())) or found is None:
        return None
    user = found.user
    if (
        not found.is_usable
        or not user.is_active
        or user.deleted_at is not None
        or not found.membership.active
        or found.membership.user_id != user.pk
    ):
        return None
    now = timezone.now()
    if found.last_used is None or now - found.last_used >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=found.pk).update(last_used=now, last_used_ip=ip)
        found.last_used, found.last_used_ip = now, ip
    return found


def bearer(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def act_as(request, token: ApiToken) -> None:
    """Make the rest of the request run as the token's user and membership."""
    request.user = token.user
    request.auth_token = token
    request._kiln_membership = token.membership


class ApiTokenAuth(HttpBearer):
    """Bearer ``kiln_...`` tokens with the ``read`` or ``write`` scope."""

    openapi_description = "Kiln API token: `Authorization: Bearer kiln_xxxxxxxx_...`"

    def authenticate(self, request, token):
        found = resolve(token, ip=request.META.get("REMOTE_ADDR"))
        if found is None:
            return None
        if request.method in SAFE_METHODS:
            allowed = found.has_scope(ApiToken.Scope.READ) or found.has_scope(ApiToken.Scope.WRITE)
        else:
            allowed = found.has_scope(ApiToken.Scope.WRITE)
        if not allowed:
            raise HttpError(403, "This token's scopes do not allow this request.")
        act_as(request, found)
        return found.user


class KilnSessionAuth(SessionAuth):
    """The browser session (CSRF-checked for unsafe methods), refused to deleted users."""

    def __call__(self, request):
        # A request that presents credentials of its own is judged on them alone (a bad token is
        # 401 even from a browser with a session); without a logged-in session the answer is 401.
        if request.META.get("HTTP_AUTHORIZATION"):
            return None
        if not getattr(getattr(request, "user", None), "is_authenticated", False):
            return None
        return super().__call__(request)

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None and getattr(user, "deleted_at", None) is not None:
            return None
        return user


token_auth = ApiTokenAuth()
session_auth = KilnSessionAuth()
token_or_session = [token_auth, session_auth]


def scim_token(request) -> ApiToken | None:
    """The SCIM token of this request: scope ``scim`` and a membership allowed to provision users."""
    from kiln.accounts.roles import Perm

    found = resolve(bearer(request), ip=request.META.get("REMOTE_ADDR"))
    if found is None or not found.has_scope(ApiToken.Scope.SCIM):
        return None
    if not found.membership.has_perm(Perm.PROVISION_USERS):
        return None
    return found
