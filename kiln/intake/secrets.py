"""Connection URLs of external databases: stored encrypted, shown only with the password masked.

Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from ``KILN_SQLSOURCE_KEY`` if set,
else from ``SECRET_KEY``; rotating that key means re-entering the URLs.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    secret = getattr(settings, "KILN_SQLSOURCE_KEY", "") or settings.SECRET_KEY
    key = hashlib.sha256(b"kiln.intake.sqlsource\x00" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(url: str) -> str:
    return _fernet().encrypt(url.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the connection URL cannot be decrypted (was the secret key changed?)") from exc


def masked(url: str) -> str:
    """The URL as it may be shown: user, host and database, never the password or query options."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return url.split("?", 1)[0]
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}:***@{netloc}" if parts.password else f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
