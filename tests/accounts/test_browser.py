"""Identity in a real browser: Playwright driving Debian's Chromium against a live server.

An enterprise user logs in with a password; a government user is sent to authenticator enrolment,
enrols with a code computed from the secret shown on the page, sees its recovery codes, logs out and
logs in again with password and TOTP; the login page switches language; a locked-out account sees
the lockout page. Every page must log no console error and fetch nothing from another host.
Screenshots (Chinese and English) land in ``test-artifacts/accounts/``.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from django.urls import reverse

from tests.accounts.helpers import FAST_HASHERS, fast_passwords
from tests.personas import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "accounts"


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/system-packages)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def people(world, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    fast_passwords(settings, world.e1_staff, world.e2_staff, world.gov_a)
    return world


class Session:
    """One browser context (one person): records console errors and every request it makes."""

    def __init__(self, browser, base: str, *, locale: str = "zh-CN", width: int = 1280):
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": 860}, locale=locale)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on(
            "console", lambda m: self.errors.append(f"{m.text} @ {self.page.url}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def click_and_wait(self, selector: str) -> None:
        """Click something that loads a new page, and wait for that page (not the old one) to settle."""
        with self.page.expect_navigation():
            self.page.locator(selector).click()
        self.page.wait_for_load_state("networkidle")

    def submit_login(self, username: str, password: str = PASSWORD) -> None:
        self.page.fill("input[name=login]", username)
        self.page.fill("input[name=password]", password)
        self.click_and_wait("main form.stack button[type=submit]")

    def path(self) -> str:
        return self.page.url.removeprefix(self.base).split("?")[0]

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        outside = [u for u in self.requests if not u.startswith(self.base) and not u.startswith("data:")]
        assert outside == [], outside

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser, live_server):
    opened: list[Session] = []

    def open_session(**kwargs) -> Session:
        s = Session(browser, live_server.url, **kwargs)
        opened.append(s)
        return s

    yield open_session
    for s in opened:
        s.close()


def fresh_totp(secret: str, *, after: int | None = None) -> tuple[str, int]:
    """A code with enough of its 30 s window left; ``after``: a window later than that one (allauth
    refuses a code twice)."""
    from tests.accounts.helpers import totp_code

    while True:
        window = int(time.time()) // 30
        if time.time() % 30 <= 24 and (after is None or window > after):
            return totp_code(secret), window
        time.sleep(0.5)


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


def test_government_user_enrols_totp_then_logs_in_with_it(session, people):
    from allauth.mfa.models import Authenticator

    s = session()
    s.go(reverse("login"))
    s.submit_login("gov_a")
    assert s.path() == reverse("mfa_activate_totp")  # the role requires a second factor: nothing else first
    s.shot("totp-enrol-zh")
    secret = s.page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    assert s.page.locator("img[src^='data:image/svg+xml']").count() == 1  # the QR code, served inline

    # Anything else sends the user back here.
    s.go(reverse("registry:enterprise-list"))
    assert s.path() == reverse("mfa_activate_totp")

    code, window = fresh_totp(secret)
    s.page.fill("input[name=code]", code)
    s.click_and_wait("main form.stack button[type=submit]")
    assert Authenticator.objects.filter(user=people.gov_a, type="totp").exists()

    s.go(reverse("mfa_view_recovery_codes"))
    codes = s.page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-z]{8}", c) for c in codes), codes
    s.shot("recovery-codes-zh")

    s.click_and_wait("header form[action='/accounts/logout/'] button")
    assert s.page.locator("header a.button[href='/accounts/login/']").count() == 1  # logged out

    s.go(reverse("login"))
    s.submit_login("gov_a")
    assert s.path() == reverse("mfa_authenticate")
    s.shot("totp-login-zh")
    code, _window = fresh_totp(secret, after=window)
    s.page.fill("input[name=code]", code)
    with s.page.expect_navigation():
        s.page.press("input[name=code]", "Enter")
    s.page.wait_for_load_state("networkidle")
    assert s.path() == "/"
    assert "青溪市生态环境局" in s.page.locator("header").inner_text()
    s.go(reverse("registry:enterprise-list"))
    assert s.path() == reverse("registry:enterprise-list")  # free to work now
    s.shot("after-totp-login-zh")
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
