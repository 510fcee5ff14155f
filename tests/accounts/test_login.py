"""Login through django-allauth: password, lockout (django-axes), MFA enrolment and challenge, sessions."""

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings as django_settings
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.urls import reverse

from kiln.accounts.models import User
from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent
from tests.accounts.helpers import add_totp, totp_code
from tests.personas import PASSWORD


def login(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"login": username, "password": password, **extra})


def test_login_is_allauth_at_the_same_url_name(client, world):
    assert reverse("login") == reverse("account_login") == "/accounts/login/"
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'name="login"' in response.text and "csrfmiddlewaretoken" in response.text


def test_enterprise_user_logs_in_with_password(client, world):
    response = login(client, "e1_staff")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").context["user"] == world.e1_staff
    assert AuditEvent.objects.filter(event_type=EventType.LOGIN, actor=world.e1_staff).exists()


def test_wrong_password_refused_and_audited(client, world):
    response = login(client, "e1_staff", "wrong-password")
    assert response.status_code == 200 and 'role="alert"' in response.text
    event = AuditEvent.objects.get(event_type=EventType.LOGIN_FAILED)
    assert event.after["username"] == "e1_staff" and event.target_id == str(world.e1_staff.pk)
    assert "wrong-password" not in str(event.after)


def test_argon2_hash_stored(settings, db):
    """The suite hashes with MD5 for speed (conftest); the platform's own setting is Argon2 first."""
    from kiln import settings as kiln_settings

    assert kiln_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = kiln_settings.PASSWORD_HASHERS
    user = User.objects.create_user("argon", password="Argon-check-2026")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password("Argon-check-2026")


# --- brute force -----------------------------------------------------------------------------


def test_lockout_after_configured_failures(client, world, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "e1_staff", "nope").status_code == 200
    locked = login(client, "e1_staff", "nope")
    assert locked.status_code == 429
    # Even the right password is refused now.
    again = login(client, "e1_staff")
    assert again.status_code == 429
    assert not client.get("/").context["user"].is_authenticated
    assert AuditEvent.objects.filter(event_type=EventType.LOCKED_OUT).exists()


def test_lockout_from_another_client_too(world, settings):
    attacker = Client(REMOTE_ADDR="10.0.0.66")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(attacker, "e2_staff", "guess")
    victim = Client(REMOTE_ADDR="10.0.0.7")
    assert login(victim, "e2_staff").status_code == 429


def test_admin_unlocks_with_command(client, world, settings):
    from django.core.management import call_command

    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "e1_staff", "nope")
    call_command("axes_reset_username", "e1_staff", verbosity=0)
    assert login(client, "e1_staff").status_code == 302


def test_failure_limit_is_configurable(client, world, settings):
    settings.AXES_FAILURE_LIMIT = 2
    login(client, "e1_staff", "nope")
    assert login(client, "e1_staff", "nope").status_code == 429


# --- session -------------------------------------------------------------------------------------


def test_session_key_changes_on_login(client, world):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    assert before
    login(client, "e1_staff")
    assert client.session.session_key != before


def test_fixated_session_id_is_not_honoured(world):
    attacker = Client()
    attacker.get(reverse("login"))
    session = attacker.session
    session["planted"] = True
    session.save()
    planted = session.session_key
    victim = Client()
    victim.cookies[django_settings.SESSION_COOKIE_NAME] = planted
    login(victim, "e1_staff")
    assert victim.cookies[django_settings.SESSION_COOKIE_NAME].value != planted
    attacker.cookies[django_settings.SESSION_COOKIE_NAME] = planted
    assert not attacker.get("/").context["user"].is_authenticated


def test_session_expires_after_configured_age(client, world, settings):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    login(client, "e1_staff")
    assert client.get("/").context["user"].is_authenticated
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)):
        assert not client.get("/").context["user"].is_authenticated


def test_no_remember_me_session_ends_with_browser(client, world):
    login(client, "e1_staff")
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]


def test_logout_is_post_and_audited(client, world):
    login(client, "e1_staff")
    client.post(reverse("logout"))
    assert not client.get("/").context["user"].is_authenticated
    assert AuditEvent.objects.filter(event_type=EventType.LOGOUT, actor=world.e1_staff).exists()


def test_public_signup_is_closed(client, db):
    response = client.post(
        reverse("account_signup"),
        {"username": "mallory", "password1": "Some-Long-pass-99", "password2": "Some-Long-pass-99"},
    )
    assert not User.objects.filter(username="mallory").exists()
    assert response.status_code == 200


# --- MFA ----------------------------------------------------------------------------------------


def test_government_user_without_mfa_is_sent_to_enrolment(client, world):
    response = login(client, "gov_a")
    assert response["Location"] == reverse("mfa_activate_totp")
    blocked = client.get(reverse("registry:enterprise-list"))
    assert blocked.status_code == 302 and blocked["Location"].startswith(reverse("mfa_activate_totp"))
    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith(reverse("mfa_activate_totp"))
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


@pytest.mark.parametrize("persona", ["verifier_e1", "admin"])
def test_verifier_and_admin_must_enrol_too(client, world, persona):
    user = getattr(world, persona)
    login(client, user.username)
    assert client.get(reverse("profile"))["Location"].startswith(reverse("mfa_activate_totp"))


def test_enterprise_user_is_not_forced(client, world):
    login(client, "e1_staff")
    assert client.get(reverse("registry:enterprise-list")).status_code == 200


def test_api_answers_403_with_code_until_enrolled(client, world):
    login(client, "gov_a")
    response = client.get("/api/v1/registry/enterprises")
    assert response.status_code == 403 and response.json()["code"] == "KLN-ACC-102"


def test_enrol_totp_then_free(client, world, django_capture_on_commit_callbacks):
    login(client, "gov_a")
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=world.gov_a, type="totp").exists()
    assert Authenticator.objects.filter(user=world.gov_a, type="recovery_codes").exists()
    assert client.get(reverse("registry:enterprise-list")).status_code == 200
    assert AuditEvent.objects.filter(event_type=EventType.MFA_ADDED, actor=world.gov_a).exists()


def test_totp_secret_is_encrypted_at_rest(world):
    secret = add_totp(world.gov_a)
    stored = Authenticator.objects.get(user=world.gov_a, type="totp").data["secret"]
    assert secret not in stored and stored.startswith("fernet:")


def test_login_asks_for_totp_when_enrolled(client, world):
    secret = add_totp(world.gov_a)
    response = login(client, "gov_a")
    assert response["Location"] == reverse("mfa_authenticate")
    assert not client.get(reverse("registry:enterprise-list")).wsgi_request.user.is_authenticated
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert AuditEvent.objects.filter(event_type=EventType.MFA_FAILED).exists()
    ok = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert ok.status_code == 302
    assert client.get(reverse("registry:enterprise-list")).status_code == 200
    event = AuditEvent.objects.filter(event_type=EventType.LOGIN, actor=world.gov_a).get()
    assert event.after["method"] == "password+mfa:totp"


def test_recovery_code_works_once(client, world):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    add_totp(world.gov_a)
    codes = RecoveryCodes.activate(world.gov_a).get_unused_codes()
    login(client, "gov_a")
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 302
    client.post(reverse("logout"))
    login(client, "gov_a")
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 200


def test_required_role_cannot_remove_last_totp(client, world):
    from tests.accounts.helpers import signed_in

    signed_in(client, world.gov_a)
    client.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=world.gov_a, type="totp").exists()


def test_webauthn_pages_are_available(client, world):
    from tests.accounts.helpers import signed_in

    signed_in(client, world.e1_staff, totp=False)
    assert client.get(reverse("mfa_add_webauthn")).status_code == 200


def test_mfa_enforcement_can_be_switched_off_for_a_demo(client, world, settings):
    settings.KILN_MFA_ENFORCE = False
    login(client, "gov_a")
    assert client.get(reverse("registry:enterprise-list")).status_code == 200
