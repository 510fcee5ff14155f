"""Ed25519 keys and the bytes a signed tree head signs.

The key is the 32-byte Ed25519 seed in ``KILN_LEDGER_SIGNING_KEY`` (hex or base64). In
development, when it is unset, one is generated once under ``VAR_DIR/ledger-signing.key``
(mode 0600); in production Kiln refuses to sign without it (and ``kiln check`` says so).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

# Domain separation: these bytes can never be mistaken for another Kiln signature.
TREE_HEAD_TAG = b"kiln-ledger/tree-head/v1\x00"
DEVELOPMENT_KEY_FILE = "ledger-signing.key"


def tree_head_message(tree_size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    """``tag || uint64 tree_size || uint64 timestamp_ms || root_hash`` (big-endian), 73 bytes."""
    return TREE_HEAD_TAG + struct.pack(">QQ", tree_size, timestamp_ms) + bytes(root_hash)


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(bytes(public_key)).hexdigest()


def parse_seed(value: str) -> bytes:
    """A 32-byte seed from hex (64 characters) or base64 (standard or URL-safe)."""
    text = value.strip()
    try:
        seed = (
            bytes.fromhex(text)
            if len(text) == 64
            else base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        )
    except (ValueError, binascii.Error):
        seed = b""
    if len(seed) != 32:
        raise ImproperlyConfigured(
            _(
                "KILN_LEDGER_SIGNING_KEY must be a 32-byte Ed25519 seed, written as 64 hex characters or base64."
            )
        )
    return seed


def _development_seed(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once must not each write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_seed(path.read_text())
    with os.fdopen(fd, "w") as handle:
        handle.write(os.urandom(32).hex() + "\n")
    return parse_seed(path.read_text())


def signing_key() -> Ed25519PrivateKey:
    configured = getattr(settings, "KILN_LEDGER_SIGNING_KEY", "")
    if configured:
        seed = parse_seed(configured)
    elif getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured(_("KILN_LEDGER_SIGNING_KEY must be set when KILN_ENV=production."))
    else:
        seed = _development_seed(Path(settings.VAR_DIR) / DEVELOPMENT_KEY_FILE)
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def trusted_key_ids() -> set[str]:
    """The current key and any retired ones listed in ``KILN_LEDGER_RETIRED_PUBLIC_KEYS`` (hex)."""
    retired = getattr(settings, "KILN_LEDGER_RETIRED_PUBLIC_KEYS", [])
    return {key_id(public_key_bytes(signing_key()))} | {key_id(bytes.fromhex(k)) for k in retired}


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(bytes(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
