"""Password policy: length, character classes, common passwords, history, lifetime with forced change."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from kiln.accounts.models import PasswordHistory
from kiln.accounts.passwords import CharacterClassesValidator, PasswordHistoryValidator, password_expired
from tests.personas import PASSWORD


def codes(password, user=None):
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {e.code for e in exc.error_list}
    return set()


def test_policy_refuses_short_simple_and_common(db):
    assert "password_too_short" in codes("Ab1!x")
    assert "password_too_simple" in codes("alllowercaseletters")
    assert "password_too_common" in codes("password123")
    assert codes("Kiln-Strong-2026") == set()


def test_policy_is_configurable(settings, db):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 20},
        },
        {"NAME": "kiln.accounts.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 4}},
    ]
    assert codes("Kiln-Strong-2026") == {"password_too_short"}
    assert codes("KilnStrongPassword2026xx") == {"password_too_simple"}


@pytest.mark.parametrize(
    ("password", "classes"),
    [("abc", 1), ("abcDEF", 2), ("abcDEF123", 3), ("abcDEF123!", 4), ("密码Abc1", 3), ("ab cd", 1)],
)
def test_character_classes(password, classes):
    CharacterClassesValidator(classes).validate(password)
    if classes < 4:
        with pytest.raises(ValidationError):
            CharacterClassesValidator(classes + 1).validate(password)


def test_history_refuses_last_n_passwords(world, settings):
    user = world.e1_staff
    previous = [PASSWORD]
    for i in range(settings.KILN_PASSWORD_HISTORY):
        new = f"Rotated-pass-{i}-Kiln"
        validate_password(new, user)
        user.set_password(new)
        user.save()
        previous.append(new)
    # The current one and the last N-1 before it are refused; the oldest has dropped out.
    for old in previous[-settings.KILN_PASSWORD_HISTORY :]:
        assert "password_reused" in codes(old, user)
    assert "password_reused" not in codes(previous[0], user)
    assert PasswordHistory.objects.filter(user=user).count() == settings.KILN_PASSWORD_HISTORY


def test_history_stores_hashes_not_passwords(world):
    world.e1_staff.set_password("Another-pass-2026")
    world.e1_staff.save()
    stored = list(PasswordHistory.objects.filter(user=world.e1_staff).values_list("password", flat=True))
    assert stored and all("Another-pass-2026" not in s and "$" in s for s in stored)


def test_history_validator_without_user_is_quiet():
    PasswordHistoryValidator(5).validate("whatever")


def test_password_expires_and_forces_change(client, world, settings):
    settings.KILN_PASSWORD_MAX_AGE_DAYS = 90
    client.post(reverse("login"), {"login": "e1_staff", "password": PASSWORD})
    later = timezone.now() + timedelta(days=91)
    with time_machine.travel(later, tick=False):
        world.e1_staff.refresh_from_db()
        assert password_expired(world.e1_staff)
        client.force_login(world.e1_staff)
        response = client.get(reverse("registry:enterprise-list"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_change_password"))
        change = client.post(
            reverse("account_change_password"),
            {"oldpassword": PASSWORD, "password1": "Fresh-pass-2026!", "password2": "Fresh-pass-2026!"},
        )
        assert change.status_code == 302
        world.e1_staff.refresh_from_db()
        assert not password_expired(world.e1_staff)
        assert client.get(reverse("registry:enterprise-list")).status_code == 200


def test_change_to_a_reused_password_is_refused(client, world):
    client.force_login(world.e1_staff)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200 and "password1" in response.context["form"].errors


def test_lifetime_zero_means_never(world, settings):
    settings.KILN_PASSWORD_MAX_AGE_DAYS = 0
    with time_machine.travel(timezone.now() + timedelta(days=4000)):
        assert not password_expired(world.e1_staff)


def test_sso_only_users_never_expire(world, settings):
    world.e1_staff.set_unusable_password()
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        assert not password_expired(world.e1_staff)
