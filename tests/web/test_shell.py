"""The web shell: language, login, role-aware home, organisation switch, static assets served locally."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from kiln.accounts.models import Membership
from kiln.accounts.roles import Role
from tests.personas import PASSWORD


def test_home_page_renders_in_both_languages(client, world):
    client.force_login(world.gov_a)
    zh = client.get("/")
    assert zh.status_code == 200 and 'lang="zh-hans"' in zh.text
    assert "欢迎" in zh.text
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    en = client.get("/")
    assert 'lang="en"' in en.text and "Welcome" in en.text


@pytest.mark.parametrize(
    ("persona", "portal"),
    [("gov_a", "government"), ("e1_staff", "enterprise"), ("verifier_e1", "third_party"), ("admin", "admin")],
)
def test_home_is_role_aware(client, world, persona, portal):
    client.force_login(getattr(world, persona))
    assert f'data-portal="{portal}"' in client.get("/").text


def test_government_home_counts_only_its_region(client, world):
    client.force_login(world.gov_a)
    text = client.get("/").text
    figures = re.findall(r'<p class="figure">([\d,]+)</p>', text)
    assert figures[0] == "1"  # E1 only; E2 is in city B


def test_password_login_and_logout(client, world):
    # Enterprise staff need no second factor; government users are sent to MFA enrolment (tests/accounts).
    response = client.post(reverse("login"), {"username": "e1_staff", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"].username == "e1_staff"
    client.post(reverse("logout"))
    assert not client.get("/").context["user"].is_authenticated


def test_wrong_password_is_refused_with_a_message(client, world):
    response = client.post(reverse("login"), {"username": "gov_a", "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.text


def test_switch_membership_changes_scope(client, world):
    # gov_a also works for city B's department.
    Membership.objects.create(
        user=world.gov_a,
        organisation=world.e2.region.organisations.get(kind="government"),
        role=Role.GOV_VIEWER,
    )
    client.force_login(world.gov_a)
    second = world.gov_a.memberships.order_by("id").last()
    client.post(reverse("switch-membership"), {"membership": second.id, "next": "/"})
    assert client.get("/").context["membership"].id == second.id


def test_switching_to_someone_elses_membership_is_404(client, world):
    client.force_login(world.gov_a)
    other = world.gov_b.memberships.get()
    assert client.post(reverse("switch-membership"), {"membership": other.id}).status_code == 404


def test_switch_refuses_offsite_redirect(client, world):
    client.force_login(world.gov_a)
    own = world.gov_a.memberships.get()
    response = client.post(
        reverse("switch-membership"), {"membership": own.id, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_forms_need_csrf(world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.gov_a)
    own = world.gov_a.memberships.get()
    assert strict.post(reverse("switch-membership"), {"membership": own.id}).status_code == 403


def test_pages_load_no_external_assets(client, world):
    client.force_login(world.admin)
    text = client.get("/").text
    for url in re.findall(r'(?:src|href)="([^"]+)"', text):
        assert not url.startswith(("http://", "https://", "//")), url


def test_security_headers(client, db):
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_missing_migrations(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
