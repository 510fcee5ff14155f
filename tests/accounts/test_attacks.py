"""Attacks, each tested: CSRF on every form, id tampering in URL and body, injection in free text.

Brute force, session fixation, expired/revoked tokens, bad SCIM tokens and forged OIDC responses
are in test_login, test_tokens, test_scim and test_oidc.
"""

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from kiln.accounts import services
from kiln.accounts.models import ApiToken, Membership, User
from kiln.accounts.roles import Role
from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent
from tests.accounts.helpers import signed_in
from tests.test_permission_matrix import ROUTES, django_routes

CSRF_EXEMPT = {
    "scim-users",
    "scim-user",
    "scim-groups",
    "scim-group",
    "scim-config",
}  # bearer tokens, no cookies


def _url(world, key):
    if "/" in key and ":" not in key:
        return "/" + key
    route = ROUTES.get(key)
    if route is None:  # not in the matrix yet (test_permission_matrix says so): try it without arguments
        try:
            return reverse(key)
        except NoReverseMatch:
            return None
    return reverse(key, kwargs=route.kwargs(world) if route.kwargs else None)


def test_every_form_refuses_a_post_without_csrf_token(world):
    """A signed-in browser tricked into POSTing anywhere gets 403 (except the token-only SCIM API)."""
    from kiln.audit.services import record

    world.audit_event = record(EventType.USER_UPDATED, actor=world.e1_staff, target=world.e1_staff)
    attacker_page = signed_in(Client(enforce_csrf_checks=True), world.admin)
    anonymous = Client(enforce_csrf_checks=True)
    accepted = []
    for key in sorted(django_routes()):
        if key in CSRF_EXEMPT or key.startswith("api:"):
            continue
        url = _url(world, key)
        if url is None:
            continue
        for client in (attacker_page, anonymous):
            response = client.post(url, {"name": "x", "membership": "1"})
            if response.status_code != 403:
                accepted.append((key, response.status_code))
    assert not accepted, f"POST without CSRF token not refused: {accepted}"


def test_api_writes_with_a_session_need_csrf(world):
    strict = signed_in(Client(enforce_csrf_checks=True), world.e1_staff)
    _token, _raw = services.create_token(
        actor=world.e1_staff, membership=world.e1_staff.memberships.get(), name="t", scopes=["read"]
    )
    prefix = ApiToken.objects.get().prefix
    assert strict.delete(f"/api/v1/accounts/tokens/{prefix}").status_code == 403


# --- id tampering -------------------------------------------------------------------------------


def test_enterprise_user_changing_ids_in_urls_gets_404(client, world):
    signed_in(client, world.e1_staff)
    assert client.get(reverse("registry:enterprise-detail", args=[world.e2.credit_code])).status_code == 404
    assert client.get(f"/api/v1/registry/enterprises/{world.e2.credit_code}").status_code == 404
    assert client.get(reverse("user-detail", args=[world.e2_staff.pk])).status_code == 404
    assert client.post(reverse("user-disable", args=[world.e2_staff.pk])).status_code == 404
    other = world.e2_staff.memberships.get()
    assert client.post(reverse("membership-remove", args=[world.e1_staff.pk, other.pk])).status_code == 404


def test_enterprise_user_changing_ids_in_bodies_changes_nothing(client, world):
    signed_in(client, world.e1_staff)
    # Grant a role in E2 to an E1 user: the organisation is not one E1's manager manages.
    client.post(
        reverse("membership-add", args=[world.e1_staff.pk]),
        {"organisation": world.e2.pk, "role": Role.ENTERPRISE_MANAGER},
    )
    assert not Membership.objects.filter(user=world.e1_staff, organisation=world.e2).exists()
    # Switch to someone else's membership.
    assert (
        client.post(
            reverse("switch-membership"), {"membership": world.e2_staff.memberships.get().pk}
        ).status_code
        == 404
    )
    # Create a token acting as someone else's membership.
    client.post(
        reverse("token-list"),
        {
            "name": "x",
            "membership": world.e2_staff.memberships.get().pk,
            "scopes": ["read"],
            "expires_days": 5,
        },
    )
    assert not ApiToken.objects.exists()
    # Ask for a scope the membership may not have.
    client.post(
        reverse("token-list"),
        {
            "name": "x",
            "membership": world.e1_staff.memberships.get().pk,
            "scopes": ["scim"],
            "expires_days": 5,
        },
    )
    assert not ApiToken.objects.exists()


def test_api_token_cannot_reach_other_enterprises(client, world):
    _t, raw = services.create_token(
        actor=world.e1_staff, membership=world.e1_staff.memberships.get(), name="t", scopes=["write"]
    )
    other, _ = services.create_token(
        actor=world.e2_staff, membership=world.e2_staff.memberships.get(), name="t2", scopes=["read"]
    )
    response = client.delete(f"/api/v1/accounts/tokens/{other.prefix}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 404


# --- injection --------------------------------------------------------------------------------------

NASTY = [
    "'; DROP TABLE accounts_user; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "{{ settings.SECRET_KEY }}",
    '=HYPERLINK("http://evil")',
]


@pytest.mark.parametrize("payload", NASTY)
def test_free_text_is_stored_as_text_and_rendered_escaped(client, world, payload):
    signed_in(client, world.e1_staff)
    client.post(
        reverse("token-list"),
        {
            "name": payload,
            "membership": world.e1_staff.memberships.get().pk,
            "scopes": ["read"],
            "expires_days": 5,
        },
    )
    token = ApiToken.objects.get()
    assert token.name == payload
    page = client.get(reverse("token-list")).text
    if "<" in payload or '"' in payload or "'" in payload:
        assert payload not in page
    assert "kiln-development-only" not in page
    assert User.objects.filter(username="e1_staff").exists()


@pytest.mark.parametrize("payload", NASTY[:4])
def test_search_boxes_are_parameterised(client, world, payload):
    signed_in(client, world.admin)
    for url, field in [
        (reverse("user-list"), "q"),
        (reverse("audit:search"), "actor"),
        (reverse("audit:search"), "target"),
    ]:
        response = client.get(url, {field: payload})
        assert response.status_code == 200
        if "<" in payload:
            assert payload not in response.text
    assert User.objects.filter(username="e1_staff").exists()


def test_audit_records_injection_verbatim(client, world):
    signed_in(client, world.e1_staff)
    client.post(reverse("profile"), {"display_name": NASTY[2], "phone": NASTY[0]})
    event = AuditEvent.objects.filter(event_type=EventType.USER_UPDATED).latest("id")
    assert event.after == {"display_name": NASTY[2], "phone": NASTY[0]}
    signed_in(client, world.admin)
    detail = client.get(reverse("audit:event", args=[event.pk])).text
    assert NASTY[2] not in detail and "&lt;script&gt;" in detail


def test_open_redirect_after_login_is_refused(client, world):
    from tests.personas import PASSWORD

    response = client.post(
        reverse("login") + "?next=https://evil.example/", {"login": "e1_staff", "password": PASSWORD}
    )
    assert response.status_code == 302 and not response["Location"].startswith("https://evil")
