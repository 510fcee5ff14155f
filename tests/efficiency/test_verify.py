"""The QR code's public verification page: genuine, tampered, expired, superseded; no login needed."""

from __future__ import annotations

import base64
import datetime as dt
import re

import time_machine
from django.urls import reverse

from kiln.efficiency import codes
from kiln.efficiency.services import import_economic
from tests.registry.files import csv_bytes


def verify_url(token: str) -> str:
    return reverse("efficiency-verify", args=[token])


def claim(enterprise, **changes) -> codes.Claim:
    values = {
        "credit_code": enterprise.credit_code,
        "period": "2024",
        "level": "medium",
        "grade": 2,
        "neutral_mark": "low",
        "issued": dt.date(2026, 1, 10),
        "expires": dt.date(2027, 1, 10),
    }
    return codes.Claim(**{**values, **changes})


def token_from_card(client, enterprise) -> str:
    text = client.get(reverse("efficiency:card", args=[enterprise.credit_code])).text
    return re.search(r"/efficiency/verify/([A-Za-z0-9_\-.]+)/", text).group(1)


def test_the_card_token_verifies_on_the_public_page(client, graded):
    client.force_login(graded.e1_staff)
    token = token_from_card(client, graded.e1)
    client.logout()
    response = client.get(verify_url(token))
    assert response.status_code == 200
    assert 'data-verdict="valid"' in response.text
    assert graded.e1.credit_code in response.text and graded.e1.name in response.text
    assert 'data-grade="2"' in response.text and 'data-level="medium"' in response.text
    assert response["X-Robots-Tag"] == "noindex"
    assert "data-superseded" not in response.text


def test_a_tampered_token_is_not_genuine(client, graded):
    token = codes.issue(claim(graded.e1))
    payload, signature = token.split(".")
    forged_payload = (
        base64.urlsafe_b64encode(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"|2|", b"|1|")
        )
        .rstrip(b"=")
        .decode()
    )
    for bad in (
        f"{forged_payload}.{signature}",
        token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
        "nonsense",
        "a.b.c",
        f"{payload}.",
    ):
        response = client.get(verify_url(bad))
        assert response.status_code == 200 and 'data-verdict="not_genuine"' in response.text, bad
        assert graded.e1.credit_code not in response.text


def test_a_token_signed_with_another_key_is_not_genuine(client, graded, settings):
    token = codes.issue(claim(graded.e1))
    settings.KILN_LEDGER_SIGNING_KEY = "7c" * 32
    assert 'data-verdict="not_genuine"' in client.get(verify_url(token)).text
    # A retired key that is still trusted keeps old codes genuine.
    from kiln.ledger import signing

    old = signing.Ed25519PrivateKey.from_private_bytes(bytes.fromhex("6b" * 32))
    settings.KILN_LEDGER_RETIRED_PUBLIC_KEYS = [signing.public_key_bytes(old).hex()]
    assert 'data-verdict="valid"' in client.get(verify_url(token)).text


def test_an_expired_token(client, graded):
    token = codes.issue(claim(graded.e1, issued=dt.date(2024, 1, 1), expires=dt.date(2024, 12, 31)))
    with time_machine.travel(dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC), tick=False):
        response = client.get(verify_url(token))
    assert 'data-verdict="expired"' in response.text and graded.e1.credit_code in response.text
    with time_machine.travel(dt.datetime(2024, 12, 31, 12, tzinfo=dt.UTC), tick=False):
        assert 'data-verdict="valid"' in client.get(verify_url(token)).text


def test_the_card_code_expires_after_the_configured_validity(client, graded):
    client.force_login(graded.e1_staff)
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        token = token_from_card(client, graded.e1)
    verdict = codes.verify(token, today=dt.date(2026, 3, 1))
    assert verdict.genuine and verdict.claim.expires == dt.date(2027, 3, 1)
    assert codes.verify(token, today=dt.date(2027, 3, 2)).status == codes.EXPIRED


def test_a_regraded_period_is_flagged_as_superseded(client, graded):
    from kiln.efficiency.services import grade_year

    token = codes.issue(claim(graded.e1))  # grade 2, as graded
    assert "data-superseded" not in client.get(verify_url(token)).text
    import_economic(
        csv_bytes([["credit_code", "year", "value_added_10k_cny"], [graded.e1.credit_code, "2024", "50"]]),
        actor=None,
        membership=None,
        door="cli",
    )
    grade_year(actor=None, year=2024)  # E1 is now grade 3
    response = client.get(verify_url(token))
    assert 'data-verdict="valid"' in response.text and 'data-superseded="1"' in response.text


def test_claim_round_trip():
    c = codes.Claim("91339902MA00000017", "2024-06", "", None, "", dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    assert codes.Claim.parse(c.payload()) == c
