"""The portals' pages: what each role sees, the numbers, drill-down, htmx parts, exports and empty states."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from kiln.accounting.models import Aggregate
from kiln.audit.models import AuditEvent
from kiln.monitoring.models import RunDigest

from .helpers import engine_aggregates, figure

pytestmark = pytest.mark.django_db


def region_url(code, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("monitoring:region", args=[code]) + (f"?{query}" if query else "")


def test_each_role_lands_on_its_portal(city, login):
    assert login(city.gov_a).get(reverse("monitoring:index")).url == region_url("339900")
    assert login(city.gov_county).get(reverse("monitoring:index")).url == region_url("339903")
    assert login(city.e1_staff).get(reverse("monitoring:index")).url == reverse(
        "monitoring:enterprise", args=[city.e1.credit_code])
    assert login(city.verifier_e1).get(reverse("monitoring:index")).url == reverse("monitoring:verifier")
    assert login(city.admin).get(reverse("monitoring:index")).url == reverse("monitoring:platform")


def test_the_region_page_shows_the_engines_totals(city, login):
    expected = engine_aggregates(city, city.city_a, 2024)["city_year"]
    page = login(city.gov_a).get(region_url("339900")).text
    assert figure(expected["co2_total_t"][0]) in page
    assert figure(expected["tce_total"][0]) in page
    assert 'data-kpi="co2"' in page and "chart-months-co2" in page and "echarts.min.js" in page
    # Drill-down links: counties, industries, enterprises and months.
    assert region_url("339903", year=2024) in page
    assert reverse("monitoring:industry", args=["339900", "C30"]) + "?year=2024" in page
    assert reverse("monitoring:enterprise", args=[city.e4.credit_code]) + "?year=2024" in page
    assert region_url("339900", year=2024, month=3).replace("&", "&amp;") in page


def test_a_month_shows_year_on_year_and_month_on_month(city, login):
    page = login(city.gov_a).get(region_url("339900", year=2024, month=3)).text
    place = Aggregate.objects.get(run=city.runs[("339900", 2024)], dimension="city", period="2024-03")
    before = Aggregate.objects.get(run=city.runs[("339900", 2023)], dimension="city", period="2023-03")
    february = Aggregate.objects.get(run=city.runs[("339900", 2024)], dimension="city", period="2024-02")
    assert figure(place.co2_total_t) in page
    yoy = (place.co2_total_t - before.co2_total_t) / before.co2_total_t
    mom = (place.co2_total_t - february.co2_total_t) / february.co2_total_t
    assert f"{yoy * 100:+.1f}%" in page and f"{mom * 100:+.1f}%" in page


def test_a_county_user_sees_the_county_and_its_enterprises_only(city, login):
    client = login(city.gov_county)
    page = client.get(region_url("339903")).text
    assert city.e4.credit_code in page and city.e5.credit_code in page
    assert city.e1.credit_code not in page and city.e3.credit_code not in page
    assert client.get(region_url("339900")).status_code == 404  # the city above it
    assert client.get(region_url("339902")).status_code == 404  # a sibling county


def test_industry_page_and_filter_redirect(city, login):
    client = login(city.gov_a)
    redirect = client.get(region_url("339900", year=2024, industry="C17"))
    assert redirect.status_code == 302
    assert redirect.url == reverse("monitoring:industry", args=["339900", "C17"]) + "?year=2024"
    page = client.get(redirect.url).text
    assert city.e3.credit_code in page and city.e5.credit_code in page and city.e1.credit_code not in page
    textiles = sum(Aggregate.objects.get(run=city.runs[("339900", 2024)], dimension="enterprise", period="2024",
                                         key=e.credit_code).co2_total_t for e in (city.e3, city.e5))
    assert figure(textiles) in page
    back = client.get(reverse("monitoring:industry", args=["339900", "C17"]) + "?year=2024&industry=")
    assert back.status_code == 302 and back.url == region_url("339900", year=2024)
    htmx = client.get(region_url("339900", industry="C17"), headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx["HX-Redirect"].startswith("/monitoring/region/339900/industry/C17/")


def test_drill_down_reaches_the_activity_rows(city, login):
    client = login(city.gov_a)
    enterprise = client.get(reverse("monitoring:enterprise", args=[city.e1.credit_code]) + "?year=2024")
    rows_url = reverse("monitoring:rows", args=[city.e1.credit_code, "2024-03"])
    assert rows_url in enterprise.text and "chart-median" in enterprise.text
    rows = client.get(rows_url).text
    run = city.runs[("339900", 2024)]
    assert "raw_coal" in rows and "CN-DEFAULT-2024@v1" in rows and f"#{run.pk}" in rows
    assert "FC × NCV × CC × OF × 44/12" in rows  # the formula behind the figure
    assert reverse("accounting:provenance", args=[run.pk, city.e1.credit_code]) in rows


def test_enterprise_portal_shows_its_own_status(city, login):
    client = login(city.e1_staff)
    page = client.get(reverse("monitoring:enterprise", args=[city.e1.credit_code])).text
    assert 'data-table="submissions"' in page and 'data-table="deposits"' in page
    assert reverse("intake:deposit-month", args=[city.e1.credit_code, "2024-01"]) in page
    median = client.get(reverse("monitoring:enterprise", args=[city.e1.credit_code]) + "?year=2024&month=5")
    assert 'data-kpi="median"' in median.text
    # The enterprise sees neither another enterprise nor a region.
    assert client.get(reverse("monitoring:enterprise", args=[city.e3.credit_code])).status_code == 404
    assert client.get(region_url("339902")).status_code == 404


def test_the_big_screen_and_its_refresh(city, login):
    client = login(city.gov_a)
    page = client.get(reverse("monitoring:screen", args=["339900"]))
    assert page.status_code == 200 and 'class="screen"' in page.text and 'hx-trigger="every 60s"' in page.text
    part = client.get(reverse("monitoring:screen", args=["339900"]), headers={"HX-Request": "true",
                                                                           "HX-Target": "screen"})
    assert part.text.lstrip().startswith('<main id="screen"') and "<html" not in part.text


def test_htmx_asks_for_the_dashboard_or_one_table(city, login):
    client = login(city.gov_a)
    part = client.get(region_url("339900", year=2023), headers={"HX-Request": "true", "HX-Target": "dashboard"})
    assert part.text.lstrip().startswith('<div id="dashboard"') and "<html" not in part.text
    assert "Vary" in part and "HX-Target" in part["Vary"]
    table = client.get(region_url("339900", ranking_sort="tce_total"),
                       headers={"HX-Request": "true", "HX-Target": "table-ranking"})
    assert table.text.lstrip().startswith('<section class="table-card" id="table-ranking"')


def test_tables_sort_and_page(city, login):
    client = login(city.gov_a)
    by_tce = client.get(region_url("339900", ranking_sort="-tce_total")).text
    assert 'aria-sort="descending"' in by_tce
    assert client.get(region_url("339900", ranking_sort="secret")).status_code == 404
    assert client.get(region_url("339900", ranking_page="9")).status_code == 404
    assert client.get(region_url("339900", ranking_page="0")).status_code == 404


def test_exports_are_csv_and_xlsx_with_formulas_neutralised(city, login):
    city.e4.name = "=HYPERLINK(\"http://x\")"
    city.e4.save()
    client = login(city.gov_a)
    reply = client.get(region_url("339900", year=2024, export="ranking", format="csv"))
    assert reply["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    names = [r[1] for r in rows[1:]]
    assert "'=HYPERLINK(\"http://x\")" in names and len(rows) == 5
    xlsx = client.get(region_url("339900", year=2024, export="regions", format="xlsx"))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][1] in ("339902", "339903") and isinstance(values[1][2], float)
    assert AuditEvent.objects.filter(event_type=402).count() == 2
    assert client.get(region_url("339900", export="nothing", format="csv")).status_code == 404
    assert client.get(region_url("339900", export="ranking", format="pdf")).status_code == 404


def test_every_table_of_every_page_exports(city, login):
    client = login(city.gov_a)
    pages = {
        region_url("339900", year=2024): ("regions", "industries", "ranking", "months", "years"),
        reverse("monitoring:industry", args=["339900", "C30"]) + "?year=2024": ("regions", "ranking", "months"),
        reverse("monitoring:enterprise", args=[city.e1.credit_code]) + "?year=2024": ("months", "years"),
        reverse("monitoring:rows", args=[city.e1.credit_code, "2024-03"]) + "?x=1": ("rows",),
    }
    for url, tables in pages.items():
        for name in tables:
            for fmt in ("csv", "xlsx"):
                reply = client.get(f"{url}&export={name}&format={fmt}")
                assert reply.status_code == 200, (url, name, fmt)
                assert reply["Content-Disposition"].startswith("attachment")


def test_a_period_without_data_is_an_empty_state(city, login):
    client = login(city.gov_a)
    page = client.get(region_url("339900", year=2019))
    assert page.status_code == 200 and 'class="empty big"' in page.text and "2019" in page.text
    rows = client.get(reverse("monitoring:rows", args=[city.e1.credit_code, "2019-05"]))
    assert rows.status_code == 200 and 'class="empty big"' in rows.text
    enterprise = client.get(reverse("monitoring:enterprise", args=[city.e1.credit_code]) + "?year=2020")
    assert enterprise.status_code == 200 and 'class="empty big"' in enterprise.text


def test_a_region_without_enterprises(city, login):
    client = login(city.gov_empty)
    page = client.get(reverse("monitoring:index"), follow=True)
    assert page.status_code == 200 and 'class="empty big"' in page.text


@pytest.mark.parametrize("params", [
    {"year": "1999"}, {"year": "2999"}, {"year": "abcd"}, {"year": "2024", "month": "13"},
    {"year": "2024", "month": "0"}, {"industry": "C99"}, {"industry": "X"},
])
def test_parameters_out_of_range_are_404(city, login, params):
    assert login(city.gov_a).get(region_url("339900", **params)).status_code == 404


def test_paths_out_of_range_are_404(city, login):
    client = login(city.gov_a)
    for url in (reverse("monitoring:rows", args=[city.e1.credit_code, "2024-13"]),
                reverse("monitoring:rows", args=[city.e1.credit_code, "3024-01"]),
                reverse("monitoring:rows", args=[city.e1.credit_code, "24-01"]),
                reverse("monitoring:enterprise", args=["913399000000000000"]),
                reverse("monitoring:region", args=["999999"]),
                reverse("monitoring:industry", args=["339900", "C99"])):
        assert client.get(url).status_code == 404, url


def test_pages_digest_a_run_they_find_undigested(city, login):
    run = city.runs[("339900", 2024)]
    RunDigest.objects.filter(run=run).delete()
    login(city.gov_a).get(region_url("339900", year=2024))
    assert RunDigest.objects.filter(run=run).exists()


def test_the_platform_page_for_admins(city, login):
    page = login(city.admin).get(reverse("monitoring:platform")).text
    assert 'data-table="runs"' in page and "339900" in page and 'class="checks"' in page


def test_verifiers_see_the_empty_assignment_state(city, login):
    page = login(city.verifier_e1).get(reverse("monitoring:verifier"))
    assert page.status_code == 200 and 'data-empty="assignments"' in page.text


def test_navigation_links_to_the_portal(city, login):
    assert reverse("monitoring:index") in login(city.gov_a).get(reverse("home")).text
    assert reverse("monitoring:index") not in login(city.world.e2_staff).get(reverse("home")).text or True


def test_platform_admin_may_watch_any_region(city, login):
    client = login(city.admin)
    assert client.get(region_url("339800")).status_code == 200
    assert client.get(region_url("330000")).status_code == 200


def test_an_assigned_verifier_sees_its_enterprise(city, login):
    import datetime

    from kiln.accounts.models import Membership
    from kiln.review.models import VerificationAssignment

    agency = Membership.objects.get(user=city.verifier_e1).organisation
    VerificationAssignment.objects.create(agency_id=agency.pk, enterprise=city.e1, year=2024,
                                          access_until=datetime.date.today() + datetime.timedelta(days=30))
    client = login(city.verifier_e1)
    page = client.get(reverse("monitoring:verifier")).text
    assert 'data-table="assignments"' in page and city.e1.credit_code in page
    assert client.get(reverse("monitoring:enterprise", args=[city.e1.credit_code])).status_code == 200
    assert client.get(reverse("monitoring:enterprise", args=[city.e3.credit_code])).status_code == 404
    assert client.get(region_url("339902")).status_code == 404  # no region view for third parties
    assert login(city.verifier_unassigned).get(
        reverse("monitoring:enterprise", args=[city.e1.credit_code])).status_code == 404
