"""A report from draft to approved through the pages, in a real browser (Playwright + Debian's Chromium).

Three personas log in through the login form (TOTP where the role requires it): the enterprise
manager opens the annual report, runs the self-check, explains the warning and submits; the city
reviewer starts and passes the preliminary review; the provincial reviewer approves, which locks
the months. The UI is Chinese (a catalogue compiled from kiln/locale and every app's
TRANSLATIONS.tsv); one page is also checked in English. Screenshots: ``test-artifacts/review/``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from django.urls import reverse

from kiln.intake.models import EnterpriseMonth
from kiln.review.models import State, Submission
from tests.reports.conftest import YEAR

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "review"


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
def catalogue(settings, tmp_path):
    """zh-Hans: the project catalogue plus every app's TRANSLATIONS.tsv (as the lead merges them)."""
    polib = pytest.importorskip("polib")
    po = polib.pofile(str(ROOT / "kiln" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = {e.msgid: e for e in po if not e.msgctxt}
    for tsv in sorted((ROOT / "kiln").glob("*/TRANSLATIONS.tsv")):
        with tsv.open(encoding="utf-8") as handle:
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) != 2 or row[0] == "msgid" or not row[1]:
                    continue
                entry = known.get(row[0])
                if entry is None:
                    known[row[0]] = polib.POEntry(msgid=row[0], msgstr=row[1])
                    po.append(known[row[0]])
                elif not entry.msgid_plural and ("fuzzy" in entry.flags or not entry.msgstr):
                    entry.msgstr = row[1]  # makemessages' fuzzy guess or an empty entry: the TSV wins
                    entry.flags = [f for f in entry.flags if f != "fuzzy"]
    out = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    out.mkdir(parents=True)
    po.save_as_mofile(str(out / "django.mo"))
    settings.LOCALE_PATHS = [tmp_path / "locale"]


class Session:
    def __init__(self, browser, base: str, name: str):
        self.base, self.name = base, name
        self.context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def log_in(self, user, secret: str = "") -> None:
        from tests.accounts.helpers import totp_code
        from tests.personas import PASSWORD

        page = self.page
        page.goto(self.base + reverse("login"))
        page.fill("input[name=login]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_load_state("networkidle")
        if secret:
            page.fill("input[name=code]", totp_code(secret))
            page.press("input[name=code]", "Enter")
            page.wait_for_load_state("networkidle")
        assert "/accounts/login" not in page.url and "2fa" not in page.url, page.url
        self.errors.clear()

    def shot(self, label: str) -> None:
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(ARTIFACTS / f"{label}.png"), full_page=True)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")

    def click_action(self, action: str) -> None:
        self.page.click(f"button[data-action={action}]")
        self.page.wait_for_load_state("networkidle")

    def messages(self) -> str:
        return " ".join(self.page.locator("ul.messages li").all_inner_texts())

    def close(self) -> None:
        assert self.errors == [], self.errors
        self.context.close()


def state_of(sub: Submission) -> str:
    sub.refresh_from_db()
    return sub.state


def test_a_report_from_draft_to_approved(browser, live_server, reviewers, catalogue, settings):
    from tests.accounts.helpers import add_totp

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    w = reviewers
    city_secret = add_totp(w.gov_a)
    province_secret = add_totp(w.gov_province)

    # 1. the enterprise: open the report, self-check, explain the warning, submit
    e = Session(browser, live_server.url, "enterprise")
    e.log_in(w.e1_staff)
    e.go(reverse("review:submissions"))
    e.shot("1-enterprise-reports")
    assert "我的报告" in e.page.inner_text("h1")
    e.page.fill("input[name=period]", str(YEAR))
    e.page.click("form.filters button[type=submit]")
    e.page.wait_for_load_state("networkidle")
    sub = Submission.objects.get(enterprise=w.e1, period=str(YEAR))
    assert e.page.url.endswith(reverse("review:detail", args=[sub.pk]))
    assert e.page.locator("button[data-action=submit]").count() == 1
    e.click_action("submit")  # before the self-check: refused with a translated message
    assert "自查" in e.messages(), e.messages()
    assert state_of(sub) == State.DRAFT
    e.page.click("#run-self-check")
    e.page.wait_for_load_state("networkidle")
    e.shot("2-enterprise-self-check")
    assert e.page.locator("#self-check tr.sev-warning").count() >= 1
    warnings = e.page.locator("#self-check tr.sev-warning input[name=explanation]")
    for i in range(warnings.count()):
        field = e.page.locator("#self-check tr.sev-warning input[name=explanation]").nth(i)
        field.fill("证据原件存于厂区档案室，月底统一扫描上传。")
        field.press("Enter")
        e.page.wait_for_load_state("networkidle")
    e.click_action("submit")
    assert state_of(sub) == State.SUBMITTED, e.messages()
    e.shot("3-enterprise-submitted")
    assert "已提交" in e.page.inner_text("#state")
    e.close()

    # 2. the city reviewer: the queue, then the preliminary review
    city = Session(browser, live_server.url, "city")
    city.log_in(w.gov_a, city_secret)
    city.go(reverse("review:queue"))
    city.shot("4-city-queue")
    city.page.click(f"a[href='{reverse('review:detail', args=[sub.pk])}']")
    city.page.wait_for_load_state("networkidle")
    assert "证据原件存于厂区档案室" in city.page.inner_text("#self-check")  # the explanation reviewers see
    city.click_action("start_preliminary")
    assert state_of(sub) == State.PRELIMINARY
    city.shot("5-city-preliminary")
    city.click_action("pass_preliminary")
    assert state_of(sub) == State.FINAL
    assert city.page.locator("button[data-action=approve]").count() == 0  # not the same reviewer
    city.close()

    # 3. the provincial reviewer: the final review
    province = Session(browser, live_server.url, "province")
    province.log_in(w.gov_province, province_secret)
    province.go(reverse("review:detail", args=[sub.pk]))
    province.shot("6-province-final")
    province.click_action("approve")
    assert state_of(sub) == State.APPROVED
    province.shot("7-province-approved")
    assert "已通过" in province.page.inner_text("#state")
    assert (
        EnterpriseMonth.objects.filter(enterprise=w.e1, period__startswith=f"{YEAR}-", frozen=True).count()
        == 12
    )
    # the same page in English
    province.page.click("button.lang[value=en]")
    province.page.wait_for_load_state("networkidle")
    assert "approved and locked" in province.page.inner_text("#state")
    province.shot("8-province-approved-en")
    province.close()
