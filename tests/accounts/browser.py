"""Shared by the browser tests of identity and operations: Debian's Chromium, one session per person.

Playwright drives ``/usr/bin/chromium`` (never a downloaded browser); a ``Session`` records console
errors and every request so a test can assert a page is clean and fetched nothing from another host.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.personas import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS_ROOT = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/system-packages)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Session:
    """One browser context (one person): records console errors and every request it makes."""

    def __init__(self, browser, base: str, artifacts: Path, *, locale: str = "zh-CN", width: int = 1280):
        self.base = base
        self.artifacts = artifacts
        artifacts.mkdir(parents=True, exist_ok=True)
        self.context = browser.new_context(viewport={"width": width, "height": 860}, locale=locale)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on(
            "console",
            lambda m: self.errors.append(f"{m.text} @ {self.page.url}") if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.artifacts / f"{name}.png"), full_page=True)

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


def session_factory(browser, live_server, artifacts: Path):
    """A generator for a ``session`` fixture: ``open_session(locale=...)``, every session closed after."""
    opened: list[Session] = []

    def open_session(**kwargs) -> Session:
        s = Session(browser, live_server.url, artifacts, **kwargs)
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


def log_in(s: Session, username: str, secret: str = "", *, after: int | None = None) -> int | None:
    """Password, then (``secret``) a TOTP code; returns the code's 30 s window."""
    from django.urls import reverse

    s.go(reverse("login"))
    s.submit_login(username)
    window = None
    if secret:
        code, window = fresh_totp(secret, after=after)
        s.page.fill("input[name=code]", code)
        s.click_and_wait("main form.stack button[type=submit]")
    assert "/accounts/login" not in s.page.url and "2fa/authenticate" not in s.page.url, s.page.url
    return window
