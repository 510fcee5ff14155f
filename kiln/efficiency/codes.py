"""Signed carbon-efficiency codes: the token behind the QR code, and its verification.

A token is ``<payload>.<signature>``, both base64url without padding. The payload is ASCII:

    kiln-eff/1|<credit code>|<period>|<level>|<grade>|<neutral mark>|<issued YYYYMMDD>|<expires YYYYMMDD>

(``-`` for an empty mark). The signature is Ed25519 over ``TAG || payload`` with the platform's
ledger key (``kiln.ledger.signing``; ``KILN_LEDGER_SIGNING_KEY``), so a bank scanning the code can
have it checked by the public verification page, and anyone holding the published public key can
check it offline. The tag separates these signatures from the ledger's tree heads.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from kiln.ledger import signing

TAG = b"kiln-efficiency/code/v1\x00"
PREFIX = "kiln-eff/1"
GENUINE, EXPIRED, NOT_GENUINE = "valid", "expired", "not_genuine"


@dataclass(frozen=True)
class Claim:
    credit_code: str
    period: str
    level: str
    grade: int | None
    neutral_mark: str
    issued: dt.date
    expires: dt.date

    def payload(self) -> bytes:
        fields = [
            PREFIX,
            self.credit_code,
            self.period,
            self.level or "-",
            str(self.grade) if self.grade else "-",
            self.neutral_mark or "-",
            self.issued.strftime("%Y%m%d"),
            self.expires.strftime("%Y%m%d"),
        ]
        if any("|" in f for f in fields):
            raise ValueError("a claim field contains the separator")
        return "|".join(fields).encode("ascii")

    @classmethod
    def parse(cls, payload: bytes) -> Claim:
        parts = payload.decode("ascii").split("|")
        if len(parts) != 8 or parts[0] != PREFIX:
            raise ValueError("not a carbon-efficiency code")
        _, code, period, level, grade, mark, issued, expires = parts
        return cls(
            credit_code=code,
            period=period,
            level="" if level == "-" else level,
            grade=None if grade == "-" else int(grade),
            neutral_mark="" if mark == "-" else mark,
            issued=dt.datetime.strptime(issued, "%Y%m%d").date(),
            expires=dt.datetime.strptime(expires, "%Y%m%d").date(),
        )


@dataclass(frozen=True)
class Verdict:
    status: str  # GENUINE, EXPIRED or NOT_GENUINE
    claim: Claim | None = None
    key_id: str = ""

    @property
    def genuine(self) -> bool:
        return self.status == GENUINE


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(claim: Claim) -> str:
    payload = claim.payload()
    signature = signing.signing_key().sign(TAG + payload)
    return f"{_b64(payload)}.{_b64(signature)}"


def trusted_public_keys() -> list[bytes]:
    """The current signing key first, then retired ones (``KILN_LEDGER_RETIRED_PUBLIC_KEYS``, hex)."""
    keys = [signing.public_key_bytes(signing.signing_key())]
    for text in getattr(settings, "KILN_LEDGER_RETIRED_PUBLIC_KEYS", []) or []:
        try:
            keys.append(bytes.fromhex(text))
        except ValueError:
            continue
    return keys


def verify(token: str, *, today: dt.date) -> Verdict:
    """Genuine and in date, genuine but expired, or not genuine (tampered, malformed, unknown key)."""
    try:
        payload_text, signature_text = token.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (ValueError, binascii.Error):
        return Verdict(NOT_GENUINE)
    for key in trusted_public_keys():
        if signing.verify(key, signature, TAG + payload):
            try:
                claim = Claim.parse(payload)
            except (ValueError, UnicodeDecodeError):
                return Verdict(NOT_GENUINE)
            status = EXPIRED if today > claim.expires else GENUINE
            return Verdict(status, claim, signing.key_id(key))
    return Verdict(NOT_GENUINE)


def public_key_hex() -> str:
    return signing.public_key_bytes(signing.signing_key()).hex()
