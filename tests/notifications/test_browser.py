"""The bell in the top bar and the notification list in Chromium (zh-Hans): count, badge, mark as read.

Screenshots: ``test-artifacts/notifications/``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kiln.notifications import services
from tests.review import test_browser as review_browser
from tests.review.test_browser import Session, browser, catalogue  # noqa: F401 - shared fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def artifacts(monkeypatch):
    folder = review_browser.ROOT / "test-artifacts" / "notifications"
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(review_browser, "ARTIFACTS", folder)
    return folder


def test_the_bell_and_the_list(browser, live_server, world, catalogue, settings, artifacts):  # noqa: F811
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    w = world
    services.notify(
        [w.e1_staff],
        kind="deadline",
        key="deadline:x",
        title="今日截止：年度报告 2024",
        url=reverse("review:submissions"),
    )
    services.notify(
        [w.e1_staff], kind="incident", key="incident:1:opened", title="[II] 数据采集异常", level="II"
    )
    s = Session(browser, live_server.url, "enterprise")
    s.log_in(w.e1_staff)
    s.go(reverse("home"))
    assert s.page.inner_text(".topbar a.bell .unread-count").startswith("2")
    s.shot("1-bell")
    s.page.click(".topbar a.bell")
    s.page.wait_for_load_state("networkidle")
    assert s.page.locator("ul.notifications li.unread").count() == 2
    assert s.page.inner_text(".notification-level.lvl-orange") == "II"
    s.shot("2-list")
    s.page.locator("ul.notifications li.unread button.link").first.click()
    s.page.wait_for_load_state("networkidle")
    assert s.page.locator("ul.notifications li.unread").count() == 1
    assert s.page.inner_text(".topbar a.bell .unread-count").startswith("1")
    s.page.click(".notification-tools button[type=submit]")
    s.page.wait_for_load_state("networkidle")
    assert s.page.locator("ul.notifications li.unread").count() == 0
    assert s.page.locator(".topbar a.bell .unread-count").count() == 0
    s.shot("3-all-read")
    s.close()
