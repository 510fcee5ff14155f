"""The portals in a real browser: Playwright driving Debian's Chromium against a live server.

Each persona logs in through the login form (and the TOTP step where the role requires it); every
dashboard must draw its charts (a canvas in each), log no console error, fetch nothing from
another host, show the engine's numbers, switch language, and drill down to an activity row.
Screenshots land in ``test-artifacts/monitoring/``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.urls import reverse

from tests.monitoring.conftest import build_city
from tests.monitoring.helpers import engine_aggregates, figure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "monitoring"
ECHARTS = Path(__file__).resolve().parents[2] / "kiln" / "static" / "vendor" / "echarts" / "echarts.min.js"


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/system-packages)")
    assert ECHARTS.exists(), "run `make install` (python -m kiln.web.assets) to vendor ECharts"
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def city(world):
    from kiln.demo.boundaries import qingxi_counties
    from kiln.monitoring import memo, services

    memo.clear()
    c = build_city(world)
    doc = qingxi_counties()
    doc["features"] = [f for f in doc["features"] if f["properties"]["code"] in {"339902", "339903", "339904"}]
    services.upload_map(actor=world.admin, region=world.city_a, data=json.dumps(doc).encode())
    return c


class Session:
    """A browser context for one persona that records console errors and every request."""

    def __init__(self, browser, base: str, width: int = 1366):
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"{m.text} @ {self.page.url}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def log_in(self, user, secret: str = "") -> None:
        from tests.personas import PASSWORD

        page = self.page
        page.goto(self.base + reverse("login"))
        page.fill("input[name=login]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_load_state("networkidle")
        if secret:
            import time

            from tests.accounts.helpers import totp_code

            while time.time() % 30 > 25:  # a code from the window's last seconds may expire on its way
                time.sleep(0.5)
            page.fill("input[name=code]", totp_code(secret))
            page.press("input[name=code]", "Enter")
            page.wait_for_load_state("networkidle")
        if "/accounts/login" in page.url or "2fa" in page.url:
            page.screenshot(path=str(ARTIFACTS / f"login-failed-{user.username}.png"), full_page=True)
        assert "/accounts/login" not in page.url and "2fa" not in page.url, page.url
        # The login pages are the accounts app's (their shell has no icon, so Chromium's /favicon.ico
        # asks 404); what is checked from here on is the portals.
        self.errors.clear()

    def open(self, path: str, shot: str = "") -> None:
        self.page.goto(self.base + path)
        self.settle()
        if shot:
            self.page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)

    def settle(self) -> None:
        """Network idle, and the charts' entry animations over (for the screenshots)."""
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(900)

    def charts_drawn(self) -> None:
        charts = self.page.locator("[data-chart]")
        assert charts.count() > 0
        for i in range(charts.count()):
            chart = charts.nth(i)
            assert chart.locator("canvas").count() >= 1, chart.get_attribute("data-chart")

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        outside = [u for u in self.requests if not u.startswith(self.base) and not u.startswith("data:")]
        assert outside == [], outside

    def close(self) -> None:
        self.context.close()


def kpi(page, key: str) -> float:
    return float(page.locator(f'[data-kpi="{key}"]').first.get_attribute("data-value"))


def test_government_portal(browser, live_server, city):
    from tests.accounts.helpers import add_totp

    secret = add_totp(city.gov_a)
    s = Session(browser, live_server.url)
    try:
        s.log_in(city.gov_a, secret)
        s.open(reverse("monitoring:index"), "government-region")
        assert "/monitoring/region/339900/" in s.page.url
        s.charts_drawn()
        assert s.page.locator("[data-chart=chart-map] canvas").count() == 1  # the choropleth
        expected = engine_aggregates(city, city.city_a, 2024)["city_year"]
        assert kpi(s.page, "co2") == pytest.approx(expected["co2_total_t"][0], rel=1e-9)
        assert kpi(s.page, "tce") == pytest.approx(expected["tce_total"][0], rel=1e-9)
        assert figure(expected["co2_total_t"][0]) in s.page.locator('[data-kpi="co2"] .figure').inner_text()
        for chart in ("chart-months-co2", "chart-sources", "chart-map"):  # tooltips must not break the CSP
            s.page.hover(f"[data-chart={chart}]")
            s.page.wait_for_timeout(300)
        s.page.screenshot(path=str(ARTIFACTS / "government-tooltip.png"))

        # htmx: another year replaces the dashboard without a page load, and its charts are drawn again.
        document = s.page.main_frame
        s.page.select_option("select[name=year]", "2023")
        for _ in range(50):  # htmx swaps the dashboard and pushes the URL (no page load to wait for)
            if "year=2023" in s.page.url and s.page.locator("#dashboard [data-chart] canvas").count():
                break
            s.page.wait_for_timeout(100)
        assert document is s.page.main_frame and "year=2023" in s.page.url
        s.page.wait_for_timeout(300)
        before = engine_aggregates(city, city.city_a, 2023)["city_year"]
        assert kpi(s.page, "co2") == pytest.approx(before["co2_total_t"][0], rel=1e-9)
        s.charts_drawn()

        # Sorting a table is a partial swap too.
        s.page.click('#table-ranking th a[href*="ranking_sort=-tce_total"]')
        s.page.wait_for_selector('#table-ranking th[aria-sort="descending"]')

        # Drill-down: county → enterprise → month → an activity row with its provenance.
        s.open(reverse("monitoring:region", args=["339900"]) + "?year=2024")
        s.page.click('#table-regions a:has-text("青湖区")')
        s.settle()
        assert "/monitoring/region/339903/" in s.page.url
        s.page.screenshot(path=str(ARTIFACTS / "government-county.png"), full_page=True)
        s.page.click(f'#table-ranking a:has-text("{city.e4.name}")')
        s.settle()
        s.charts_drawn()
        s.page.screenshot(path=str(ARTIFACTS / "government-enterprise.png"), full_page=True)
        s.page.click('#table-months a:has-text("2024-03")')
        s.page.wait_for_load_state("networkidle")
        assert s.page.url.endswith(f"/monitoring/enterprise/{city.e4.credit_code}/2024-03/")
        row = s.page.locator('#table-rows tbody tr:has-text("raw_coal")')
        assert row.count() == 1 and "CN-DEFAULT-2024@v1" in row.inner_text()
        s.page.screenshot(path=str(ARTIFACTS / "government-rows.png"), full_page=True)

        # Industry view and the big screen.
        s.open(reverse("monitoring:industry", args=["339900", "C17"]) + "?year=2024", "government-industry")
        s.charts_drawn()
        s.page.set_viewport_size({"width": 1920, "height": 1080})
        s.open(reverse("monitoring:screen", args=["339900"]), "government-big-screen")
        s.charts_drawn()
        assert s.page.locator("body.screen").count() == 1

        # The language switch.
        s.page.set_viewport_size({"width": 1366, "height": 900})
        s.open(reverse("monitoring:region", args=["339900"]))
        s.page.click('button[name=language][value=en]')
        s.settle()
        assert s.page.locator("html").get_attribute("lang") == "en"
        assert "Qingxi" in s.page.locator("h1").inner_text() or city.city_a.name_en in s.page.locator("h1").inner_text()
        s.charts_drawn()
        s.page.screenshot(path=str(ARTIFACTS / "government-region-en.png"), full_page=True)
        s.page.click('button[name=language][value=zh-hans]')
        s.page.wait_for_load_state("networkidle")
        assert s.page.locator("html").get_attribute("lang") == "zh-hans"
        s.assert_clean()
    finally:
        s.close()


def test_government_portal_on_a_tablet(browser, live_server, city):
    from tests.accounts.helpers import add_totp

    secret = add_totp(city.gov_a)
    s = Session(browser, live_server.url, width=820)
    try:
        s.log_in(city.gov_a, secret)
        s.open(reverse("monitoring:region", args=["339900"]), "government-region-tablet")
        s.charts_drawn()
        wide = s.page.evaluate("""() => { const w = document.documentElement.clientWidth; const out = [];
            for (const el of document.querySelectorAll('body *')) { const r = el.getBoundingClientRect();
              if (r.right > w + 1 && r.width > 0 && !el.closest('.scroll')) out.push(el.tagName + '.' + el.className); }
            return out; }""")
        assert wide == []  # nothing wider than the screen: wide tables scroll inside their card
        s.assert_clean()
    finally:
        s.close()


def test_enterprise_portal(browser, live_server, city):
    s = Session(browser, live_server.url)
    try:
        s.log_in(city.e1_staff)
        s.open(reverse("monitoring:index"), "enterprise-portal")
        assert f"/monitoring/enterprise/{city.e1.credit_code}/" in s.page.url
        s.charts_drawn()
        expected = engine_aggregates(city, city.city_a, 2024)["enterprise_year"]
        mine = expected.filter(expected["credit_code"].cast(str) == city.e1.credit_code)
        assert kpi(s.page, "co2") == pytest.approx(mine["co2_total_t"][0], rel=1e-9)
        assert s.page.locator('[data-table="deposits"]').count() == 1
        assert s.page.locator('[data-table="submissions"]').count() == 1
        s.open(reverse("monitoring:rows", args=[city.e1.credit_code, "2024-01"]), "enterprise-rows")
        assert s.page.locator("#table-rows tbody tr").count() >= 4
        s.assert_clean()
    finally:
        s.close()


def test_admin_portal(browser, live_server, city):
    from tests.accounts.helpers import add_totp

    secret = add_totp(city.admin)
    s = Session(browser, live_server.url)
    try:
        s.log_in(city.admin, secret)
        s.open(reverse("monitoring:index"), "admin-platform")
        assert "/monitoring/platform/" in s.page.url
        assert s.page.locator(".check").count() >= 4 and s.page.locator('[data-table="runs"] tbody tr').count() == 3
        s.open(reverse("monitoring:maps"), "admin-maps")
        s.page.set_input_files("input[name=file]", files=[{
            "name": "wrong.geojson", "mimeType": "application/geo+json",
            "buffer": json.dumps({"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"code": "110101"},
                 "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}).encode()}])
        s.page.select_option("select[name=region]", label=str(city.city_a.name))
        s.page.click("form.stack button[type=submit]")
        s.page.wait_for_load_state("networkidle")
        assert "KLN-MON-105" in s.page.locator(".error").inner_text()
        s.page.screenshot(path=str(ARTIFACTS / "admin-maps-error.png"), full_page=True)
        # An admin may watch any region.
        s.open(reverse("monitoring:region", args=["330000"]) + "?year=2024", "admin-province")
        s.charts_drawn()
        s.errors = [e for e in s.errors if "422" not in e]  # the refused upload's status, on purpose
        s.assert_clean()
    finally:
        s.close()
