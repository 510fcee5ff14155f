"""Identity in a real browser: Playwright driving Debian's Chromium against a live server.

An enterprise user logs in with a password; a government user is sent to authenticator enrolment,
enrols with a code computed from the secret shown on the page, sees its recovery codes, logs out and
logs in again with password and TOTP; the login page switches language; a locked-out account sees
the lockout page. Every page must log no console error and fetch nothing from another host.
Screenshots (Chinese and English) land in ``test-artifacts/accounts/``.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.accounts.browser import ARTIFACTS_ROOT, browser, fresh_totp, session_factory  # noqa: F401
from tests.accounts.helpers import FAST_HASHERS, fast_passwords

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session(browser, live_server):  # noqa: F811
    yield from session_factory(browser, live_server, ARTIFACTS_ROOT / "accounts")


@pytest.fixture
def people(world, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    fast_passwords(settings, world.e1_staff, world.e2_staff, world.gov_a)
    return world


def test_enterprise_user_logs_in_with_a_password(session, people):
    s = session()
    s.go(reverse("login"))
    assert s.page.locator("html").get_attribute("lang") == "zh-hans"
    assert s.page.locator("h1").inner_text() == "登录"
    s.shot("login-zh")
    s.submit_login("e1_staff")
    assert s.path() == "/"
    assert "E1 水泥有限公司" in s.page.locator("header").inner_text()
    s.shot("home-enterprise-zh")
    s.assert_clean()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_government_user_enrols_totp_then_logs_in_with_it(session, people, language):
    from allauth.mfa.models import Authenticator

    lang = "zh" if language == "zh-hans" else "en"
    s = session(locale="zh-CN" if lang == "zh" else "en-US")
    s.go(reverse("login"))
    if lang == "en":
        s.click_and_wait("header button.lang[value=en]")
    s.submit_login("gov_a")
    assert s.path() == reverse("mfa_activate_totp")  # the role requires a second factor: nothing else first
    s.go(reverse("registry:enterprise-list"))
    assert s.path() == reverse("mfa_activate_totp")  # anything else sends the user back here

    # Each showing of the page has a new secret: read the one on the page being answered.
    s.shot(f"totp-enrol-{lang}")
    secret = s.page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    assert s.page.locator("img.qr[src^='data:image/svg+xml']").count() == 1  # the QR code, served inline

    code, window = fresh_totp(secret)
    s.page.fill("input[name=code]", code)
    s.click_and_wait("main form.stack button[type=submit]")
    assert Authenticator.objects.filter(user=people.gov_a, type="totp").exists()

    s.go(reverse("mfa_view_recovery_codes"))
    codes = s.page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-z]{8}", c) for c in codes), codes
    s.shot(f"recovery-codes-{lang}")

    s.click_and_wait("header form[action='/accounts/logout/'] button")
    assert s.page.locator("header a.button[href='/accounts/login/']").count() == 1  # logged out

    s.go(reverse("login"))
    s.submit_login("gov_a")
    assert s.path() == reverse("mfa_authenticate")
    s.shot(f"totp-login-{lang}")
    code, _window = fresh_totp(secret, after=window)
    s.page.fill("input[name=code]", code)
    with s.page.expect_navigation():
        s.page.press("input[name=code]", "Enter")
    s.page.wait_for_load_state("networkidle")
    assert s.path() == "/"
    assert "青溪市生态环境局" in s.page.locator("header").inner_text()
    assert s.page.locator("html").get_attribute("lang") == language
    s.go(reverse("registry:enterprise-list"))
    assert s.path() == reverse("registry:enterprise-list")  # free to work now
    s.shot(f"after-totp-login-{lang}")
    s.assert_clean()


def test_the_login_page_switches_language(session, db):
    s = session()
    s.go(reverse("login"))
    assert s.page.locator("h1").inner_text() == "登录"
    s.click_and_wait("header button.lang[value=en]")
    assert s.path() == reverse("login")
    assert s.page.locator("html").get_attribute("lang") == "en"
    assert s.page.locator("h1").inner_text() == "Log in"
    assert s.page.locator("label[for=id_password]").inner_text() == "Password"
    s.shot("login-en")
    s.click_and_wait("header button.lang[value=zh-hans]")
    assert s.page.locator("h1").inner_text() == "登录"
    s.assert_clean()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_locked_out_account_sees_the_lockout_page(session, people, settings, language):
    s = session(locale="zh-CN" if language == "zh-hans" else "en-US")
    s.go(reverse("login"))
    if language == "en":
        s.click_and_wait("header button.lang[value=en]")
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        s.submit_login("e2_staff", f"wrong-{attempt}")
        assert s.page.locator("[role=alert]").count() == 1
        assert s.path() == reverse("login")
    if language == "zh-hans":
        s.shot("login-wrong-password-zh")
    s.submit_login("e2_staff", "wrong-last")
    heading = s.page.locator("h1").inner_text()
    assert heading == ("账号已锁定" if language == "zh-hans" else "Account locked"), heading
    s.shot(f"locked-out-{'zh' if language == 'zh-hans' else 'en'}")
    s.go(reverse("login"))
    s.submit_login("e2_staff")  # even the right password
    assert s.page.locator("h1").inner_text() == heading
    # A 429 is the lockout's status: Chromium logs it as a failed resource load, which is expected here.
    assert all("429" in e for e in s.errors), s.errors


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_identity_and_audit_pages_render_cleanly(session, people, settings, language):
    """The platform admin's walk through the identity and audit pages: no console error, nothing
    fetched from elsewhere, a screenshot of each."""
    from tests.accounts.browser import log_in
    from tests.accounts.helpers import add_totp

    fast_passwords(settings, people.admin)
    secret = add_totp(people.admin)
    lang = "zh" if language == "zh-hans" else "en"
    s = session(locale="zh-CN" if lang == "zh" else "en-US")
    log_in(s, "admin", secret)
    if lang == "en":
        s.click_and_wait("header button.lang[value=en]")
    pages = {
        "profile": reverse("profile"),
        "users": reverse("user-list"),
        "user-detail": reverse("user-detail", kwargs={"pk": people.e1_staff.pk}),
        "user-invite": reverse("user-invite"),
        "tokens": reverse("token-list"),
        "mfa": reverse("mfa_index"),
        "audit": reverse("audit:search"),
        "audit-analysis": reverse("audit:analysis"),
    }
    for name, path in pages.items():
        s.go(path)
        assert s.path() == path, (name, s.page.url)
        assert s.page.locator("html").get_attribute("lang") == language
        s.shot(f"{name}-{lang}")
    s.assert_clean()
