"""The monitoring API answers with the same official numbers as the pages."""

import pytest

from kiln.accounting.models import Aggregate

from .helpers import engine_aggregates

pytestmark = pytest.mark.django_db
API = "/api/v1/monitoring"


def test_overview_equals_the_engine(city, login):
    body = login(city.gov_a).get(f"{API}/regions/339900/overview?year=2024").json()
    expected = engine_aggregates(city, city.city_a, 2024)["city_year"]
    assert body["totals"]["co2_total_t"] == pytest.approx(expected["co2_total_t"][0])
    assert body["totals"]["tce_by_type"]["coal"] == pytest.approx(expected["tce_coal"][0])
    assert body["years"] == [2023, 2024] and body["run_ids"] == [city.runs[("339900", 2024)].pk]
    assert body["co2_yoy"] == pytest.approx(
        (body["totals"]["co2_total_t"] - body["previous_year"]["co2_total_t"]) / body["previous_year"]["co2_total_t"])
    month = login(city.gov_a).get(f"{API}/regions/339900/overview?year=2024&month=2").json()
    assert month["period"] == "2024-02" and month["co2_mom"] is not None


def test_months_years_and_breakdowns(city, login):
    client = login(city.gov_a)
    months = client.get(f"{API}/regions/339900/months?year=2024").json()
    assert [m["period"] for m in months] == [f"2024-{m:02d}" for m in range(1, 13)]
    years = client.get(f"{API}/regions/339900/years").json()
    assert [y["period"] for y in years] == ["2023", "2024"]
    counties = client.get(f"{API}/regions/339900/subregions?year=2024").json()
    assert {c["code"] for c in counties} == {"339902", "339903"}
    assert sum(c["co2_share"] for c in counties) == pytest.approx(1.0)
    industries = client.get(f"{API}/regions/339900/industries?year=2024").json()
    assert {i["code"] for i in industries} == {"C30", "C17"}


def test_ranking_sorts_pages_and_filters(city, login):
    client = login(city.gov_a)
    ranked = client.get(f"{API}/regions/339900/enterprises?year=2024&limit=2").json()
    assert ranked["total"] == 4 and len(ranked["rows"]) == 2
    values = [r["co2_total_t"] for r in ranked["rows"]]
    assert values == sorted(values, reverse=True)
    textiles = client.get(f"{API}/regions/339900/enterprises?year=2024&industry=C17").json()
    assert {r["credit_code"] for r in textiles["rows"]} == {city.e3.credit_code, city.e5.credit_code}
    assert client.get(f"{API}/regions/339900/enterprises?sort=name").status_code == 404
    assert client.get(f"{API}/regions/339900/enterprises?limit=100000").status_code == 404


def test_enterprise_months_and_rows(city, login):
    client = login(city.e1_staff)
    body = client.get(f"{API}/enterprises/{city.e1.credit_code}/months?year=2024").json()
    march = Aggregate.objects.get(run=city.runs[("339900", 2024)], dimension="enterprise",
                                  key=city.e1.credit_code, period="2024-03")
    assert body["months"][2]["values"]["co2_total_t"] == pytest.approx(march.co2_total_t)
    assert body["months"][2]["industry_enterprises"] == 2
    rows = client.get(f"{API}/enterprises/{city.e1.credit_code}/rows?period=2024-03").json()
    assert rows["run_id"] == city.runs[("339900", 2024)].pk
    assert sum(r["co2_t"] for r in rows["rows"]) == pytest.approx(march.co2_total_t)
    assert {r["formula"] for r in rows["rows"]} >= {"combustion", "electricity"}


@pytest.mark.parametrize("query", ["year=1999", "year=2024&month=13", "year=x"])
def test_parameters_out_of_range_are_404(city, login, query):
    assert login(city.gov_a).get(f"{API}/regions/339900/overview?{query}").status_code == 404


def test_a_period_without_data_is_empty_not_an_error(city, login):
    body = login(city.gov_a).get(f"{API}/regions/339900/overview?year=2020").json()
    assert body["totals"] is None and body["period"] == "2020"


def test_platform_for_admins(city, login):
    body = login(city.admin).get(f"{API}/platform").json()
    assert {r["code"] for r in body["official_runs"]} == {"339900", "339800"}
    assert any(c["label"] for c in body["checks"])
