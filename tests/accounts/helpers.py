"""Helpers shared by the identity, audit and permission-matrix tests."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth.hashers import make_password
from django.core.cache import cache

from kiln.accounts.security import AUTH_RECORDS_KEY
from tests.personas import PASSWORD

FAST_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]


@pytest.fixture(autouse=True)
def fresh_cache():
    """allauth keeps rate limits and spent TOTP codes in the cache: start each test clean.

    Autouse where a conftest imports it (the identity and audit tests)."""
    cache.clear()
    yield
    cache.clear()


def fast_passwords(settings, *users) -> None:
    """Re-hash the personas' password with a fast hasher (Argon2 is ~0.3 s a hash on CI machines)."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    encoded = make_password(PASSWORD)
    for user in users:
        type(user).objects.filter(pk=user.pk).update(password=encoded)
        user.password = encoded


def add_totp(user) -> str:
    """Give the user a TOTP authenticator through allauth's API; returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str, *, offset: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def mark_signed_in(client, user, *, mfa: bool = True) -> None:
    """Give a ``force_login`` session the sign-in records a real login leaves (password, and MFA)."""
    session = client.session
    now = time.time()
    records = [{"method": "password", "at": now, "username": user.username}]
    if mfa:
        authenticator = Authenticator.objects.filter(user=user, type="totp").first()
        if authenticator is not None:
            records.append({"method": "mfa", "at": now, "id": authenticator.pk, "type": "totp"})
    session[AUTH_RECORDS_KEY] = records
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


def signed_in(client, user, *, totp: bool = True):
    """A client fully signed in as ``user`` a moment ago (TOTP enrolled when ``totp``)."""
    if totp and not Authenticator.objects.filter(user=user, type="totp").exists():
        add_totp(user)
    client.force_login(user)
    mark_signed_in(client, user)
    return client
