"""The System page in a real browser (Debian's Chromium), Chinese and English, with a backup taken.

Screenshots land in ``test-artifacts/ops/``.
"""

from __future__ import annotations

import pytest

from kiln.ops import backups
from tests.accounts.browser import ARTIFACTS_ROOT, browser, log_in, session_factory  # noqa: F401
from tests.accounts.helpers import add_totp, fast_passwords

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session(browser, live_server):  # noqa: F811
    yield from session_factory(browser, live_server, ARTIFACTS_ROOT / "ops")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_system_page_and_backup_now(session, world, settings, huey_immediate, language):
    from django.db import connection

    fast_passwords(settings, world.admin)
    secret = add_totp(world.admin)
    lang = "zh" if language == "zh-hans" else "en"
    s = session(locale="zh-CN" if lang == "zh" else "en-US", width=1366)
    log_in(s, "admin", secret)
    s.go("/ops/")
    if lang == "en":
        s.click_and_wait("header button.lang[value=en]")
    assert s.page.locator("html").get_attribute("lang") == language
    assert s.page.locator("[data-ready]").get_attribute("data-ready") == "1"
    assert s.page.locator("#readiness tbody tr").count() == 5
    s.shot(f"system-{lang}")

    if connection.vendor == "postgresql":
        import shutil

        if not shutil.which("pg_dump"):
            pytest.skip("pg_dump not installed")
    s.click_and_wait("#backups form button[type=submit]")
    assert s.path() == "/ops/"
    assert s.page.locator(".messages li.success").count() == 1
    archives = backups.list_backups()
    assert len(archives) == 1
    assert s.page.locator("#backups table tbody tr").count() == 1
    assert archives[0].name in s.page.locator("#backups table").inner_text()
    s.shot(f"system-after-backup-{lang}")
    s.assert_clean()
