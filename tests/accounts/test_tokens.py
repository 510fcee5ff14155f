"""API tokens: shown once, stored as prefix + keyed hash, scoped, expiring, revocable, 401 when not usable."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kiln.accounts import services, tokens
from kiln.accounts.models import ApiToken
from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent
from tests.accounts.helpers import signed_in

ME = "/api/v1/accounts/me"


def make(user, scopes=("read",), days=30, name="ci"):
    membership = user.memberships.get()
    return services.create_token(
        actor=user, membership=membership, name=name, scopes=list(scopes), expires_days=days
    )


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_token_shape_and_storage(world):
    token, raw = make(world.e1_staff)
    assert re.fullmatch(r"kiln_[a-z0-9]{8}_[A-Za-z0-9]{40}", raw)
    assert token.prefix == raw[:13] and token.prefix.startswith("kiln_")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(raw.split("_")[2] not in str(v) for v in stored.values())
    assert token.key_hash == tokens.key_hash(raw) and len(token.key_hash) == 64
    assert AuditEvent.objects.filter(event_type=EventType.TOKEN_CREATED, target_id=str(token.pk)).exists()


def test_created_on_the_page_and_shown_once(client, world):
    signed_in(client, world.e1_staff)
    membership = world.e1_staff.memberships.get()
    response = client.post(
        reverse("token-list"),
        {"name": "uploader", "membership": membership.pk, "scopes": ["read", "write"], "expires_days": 30},
    )
    assert response.status_code == 200
    raw = re.search(r'<code class="mono" id="new-token">([^<]+)</code>', response.text).group(1)
    assert response["Cache-Control"] == "no-store"
    listing = client.get(reverse("token-list")).text
    assert raw not in listing and raw[:13] in listing
    assert client.get(ME, **bearer(raw)).json()["via"] == "token"


def test_creating_needs_recent_sign_in(client, world):
    from tests.personas import PASSWORD

    client.force_login(world.e1_staff)
    membership = world.e1_staff.memberships.get()
    data = {"name": "late", "membership": membership.pk, "scopes": ["read"], "expires_days": 5}
    response = client.post(reverse("token-list"), data)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    assert not ApiToken.objects.exists()
    # Re-authenticating resumes the suspended request.
    resumed = client.post(response["Location"], {"password": PASSWORD})
    assert ApiToken.objects.filter(name="late").exists()
    assert "new-token" in resumed.text


def test_scim_scope_only_for_provisioners(world):
    with pytest.raises(services.errors.ScopeNotAllowed):
        make(world.e1_staff, scopes=["scim"])
    make(world.admin, scopes=["scim"])


def test_cannot_create_for_someone_elses_membership(world):
    with pytest.raises(services.errors.NotInScope):
        services.create_token(
            actor=world.e1_staff, membership=world.e2_staff.memberships.get(), name="x", scopes=["read"]
        )


def test_bearer_token_acts_as_its_membership(client, world):
    _token, raw = make(world.gov_a)
    body = client.get(ME, **bearer(raw)).json()
    assert body["username"] == "gov_a" and body["membership"]["role"] == "gov_reviewer"
    assert body["scopes"] == ["read"]


def test_last_use_is_recorded_and_listed(client, world):
    token, raw = make(world.e1_staff)
    client.get(ME, **bearer(raw), REMOTE_ADDR="10.1.2.3")
    token.refresh_from_db()
    assert token.last_used is not None and token.last_used_ip == "10.1.2.3"
    signed_in(Client(), world.e1_staff)
    page = signed_in(client, world.e1_staff).get(reverse("token-list")).text
    assert "10.1.2.3" in page


@pytest.mark.parametrize(
    "raw", ["", "kiln_", "kiln_abcdefgh_wrong", "Basic abc", "kiln_abcdefgh_" + "x" * 40]
)
def test_garbage_is_401(client, db, raw):
    assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_right_prefix_wrong_secret_is_401(client, world):
    _token, raw = make(world.e1_staff)
    assert client.get(ME, **bearer(raw[:-1] + ("a" if raw[-1] != "a" else "b"))).status_code == 401


def test_revoked_token_is_401(client, world):
    token, raw = make(world.e1_staff)
    assert client.get(ME, **bearer(raw)).status_code == 200
    services.revoke_token(token, actor=world.e1_staff)
    assert client.get(ME, **bearer(raw)).status_code == 401


def test_expired_token_is_401(client, world):
    _token, raw = make(world.e1_staff, days=1)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert client.get(ME, **bearer(raw)).status_code == 401


def test_token_of_disabled_or_deleted_user_is_401(client, world):
    _token, raw = make(world.e1_staff)
    services.disable_user(world.e1_staff, actor=world.admin, acting=world.admin.memberships.get())
    assert client.get(ME, **bearer(raw)).status_code == 401


def test_token_dies_with_its_membership(client, world):
    token, raw = make(world.e1_staff)
    services.remove_membership(token.membership, actor=world.admin, acting=world.admin.memberships.get())
    assert client.get(ME, **bearer(raw)).status_code == 401


def test_read_token_cannot_write(client, world):
    token, raw = make(world.e1_staff, scopes=["read"])
    response = client.delete(f"/api/v1/accounts/tokens/{token.prefix}", **bearer(raw))
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_write_token_can_write(client, world):
    token, raw = make(world.e1_staff, scopes=["write"])
    assert client.delete(f"/api/v1/accounts/tokens/{token.prefix}", **bearer(raw)).status_code == 204
    assert client.get(ME, **bearer(raw)).status_code == 401


def test_scim_token_cannot_use_the_api(client, world):
    _token, raw = make(world.admin, scopes=["scim"])
    assert client.get(ME, **bearer(raw)).status_code == 403


def test_revoke_on_the_page(client, world):
    token, raw = make(world.e1_staff)
    signed_in(client, world.e1_staff)
    assert client.post(reverse("token-revoke", args=[token.pk])).status_code == 302
    assert client.get(ME, **bearer(raw)).status_code == 401
    assert AuditEvent.objects.filter(event_type=EventType.TOKEN_REVOKED).exists()


def test_cannot_revoke_someone_elses_token(client, world):
    token, raw = make(world.e2_staff)
    signed_in(client, world.e1_staff)
    assert client.post(reverse("token-revoke", args=[token.pk])).status_code == 404
    response = client.delete(
        f"/api/v1/accounts/tokens/{token.prefix}", **bearer(make(world.e1_staff, ["write"])[1])
    )
    assert response.status_code == 404
    assert Client().get(ME, **bearer(raw)).status_code == 200


def test_secret_compared_in_constant_time(client, world, monkeypatch):
    _token, raw = make(world.e1_staff)
    calls = []
    real = tokens.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    client.get(ME, **bearer(raw))
    client.get(ME, **bearer("kiln_zzzzzzzz_" + "y" * 40))  # unknown prefix: still compared
    assert len(calls) == 2


def test_session_api_needs_csrf_for_writes(world):
    token, _raw = make(world.e1_staff)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.e1_staff)
    assert strict.get(ME).status_code == 200
    assert strict.delete(f"/api/v1/accounts/tokens/{token.prefix}").status_code == 403


def test_anonymous_api_is_401(client, db):
    assert client.get(ME).status_code == 401
