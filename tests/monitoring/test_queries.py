"""Which official runs answer for a region, and the sums the portals read from them."""

import pytest
from django.http import Http404

from kiln.accounting import services as accounting
from kiln.accounting.models import Aggregate, CalculationRun
from kiln.monitoring import digest, queries
from kiln.monitoring.models import IndustryBenchmark, RunDigest, Slice
from kiln.monitoring.queries import Firm, OfficialRuns, Period, Place

from .helpers import engine_aggregates

pytestmark = pytest.mark.django_db


def test_a_county_is_answered_by_its_citys_run(city):
    runs = OfficialRuns()
    run_a = city.runs[("339900", 2024)]
    assert runs.covering(city.county_b, 2024) == [run_a]
    assert runs.covering(city.city_a, 2024) == [run_a]
    assert runs.covering(city.city_a, 2022) == []
    assert runs.years(city.county_a) == [2023, 2024]


def test_a_province_is_answered_by_its_cities_runs(city):
    runs = OfficialRuns().covering(city.province, 2024)
    assert {r.region.code for r in runs} == {"339900", "339800"}
    assert OfficialRuns().covering(city.province, 2023) == [city.runs[("339900", 2023)]]


def test_a_nested_official_run_is_not_counted_twice(city):
    nested = accounting.calculate(actor=city.gov_a, region=city.county_b, year=2024,
                                  factor_set=city.sets["CN-DEFAULT-2024"])
    runs = OfficialRuns()
    assert runs.covering(city.county_b, 2024) == [nested]  # the nearest answers for the county
    assert {r.region.code for r in runs.covering(city.province, 2024)} == {"339900", "339800"}


def test_region_totals_equal_the_engine(city):
    expected = engine_aggregates(city, city.city_a, 2024)
    place = Place.of(city.city_a)
    totals = place.totals(Period(2024))
    assert totals["co2_total_t"] == pytest.approx(expected["city_year"]["co2_total_t"][0], rel=1e-9)
    assert totals["tce_total"] == pytest.approx(expected["city_year"]["tce_total"][0], rel=1e-9)
    assert totals["n_enterprises"] == 4
    march = expected["city_month"].filter(expected["city_month"]["period"].cast(str) == "2024-03")
    assert place.totals(Period(2024, 3))["co2_total_t"] == pytest.approx(march["co2_total_t"][0], rel=1e-9)
    assert [m is not None for m in place.months(2024)] == [True] * 12


def test_the_province_sums_both_cities(city):
    province = Place.of(city.province).totals(Period(2024))
    a = Place.of(city.city_a).totals(Period(2024))
    b = Place.of(city.city_b).totals(Period(2024))
    assert province["co2_total_t"] == pytest.approx(a["co2_total_t"] + b["co2_total_t"])


def test_breakdown_by_county_and_by_industry(city):
    place = Place.of(city.city_a)
    children = {r.code: v for r, v in place.by_child(Period(2024))}
    assert set(children) == {"339902", "339903"}
    assert sum(v["co2_total_t"] for v in children.values()) == pytest.approx(place.totals(Period(2024))["co2_total_t"])
    industries = {r["industry"]: r for r in place.industries(Period(2024))}
    stored = {a.key: a.co2_total_t for a in Aggregate.objects.filter(run=city.runs[("339900", 2024)],
                                                                       dimension="industry", period="2024")}
    assert set(industries) == {"C30", "C17"}
    for code, value in stored.items():
        assert industries[code]["co2_total_t"] == pytest.approx(value)


def test_a_countys_industries_come_from_the_digest(city):
    county = Place.of(city.county_b)
    industries = {r["industry"]: r["co2_total_t"] for r in county.industries(Period(2024))}
    e4 = Aggregate.objects.get(run=city.runs[("339900", 2024)], dimension="enterprise", key=city.e4.credit_code,
                               period="2024").co2_total_t
    assert industries["C30"] == pytest.approx(e4)


def test_digest_is_built_once_and_holds_medians(city):
    run = city.runs[("339900", 2024)]
    digest.ensure(run)
    digest.ensure(run)
    assert RunDigest.objects.filter(run=run).count() == 1
    slices = Slice.objects.filter(run=run, period="2024")
    assert sum(s.co2_total_t for s in slices) == pytest.approx(run.total_co2_t)
    cement = IndustryBenchmark.objects.get(run=run, industry="C30", period="2024")
    values = sorted(Aggregate.objects.filter(run=run, dimension="enterprise", period="2024",
                                             key__in=[city.e1.credit_code, city.e4.credit_code])
                    .values_list("co2_total_t", flat=True))
    assert cement.n_enterprises == 2 and cement.co2_median_t == pytest.approx(sum(values) / 2)


def test_ranking_is_scoped_to_the_region(city):
    county = Place.of(city.county_b)
    keys = set(county.ranking(Period(2024)).values_list("key", flat=True))
    assert keys == {city.e4.credit_code, city.e5.credit_code}
    whole = Place.of(city.city_a).ranking(Period(2024), "C17")
    assert set(whole.values_list("key", flat=True)) == {city.e3.credit_code, city.e5.credit_code}


def test_an_enterprise_reads_its_own_months_and_its_industry_median(city):
    firm = Firm(city.e1, OfficialRuns())
    assert firm.years == [2023, 2024]
    months = firm.months(2024)
    assert all(months)
    bench = firm.benchmarks(2024)
    assert all(b is not None and b.n_enterprises == 2 for b in bench)


def test_activity_rows_of_a_month_carry_their_provenance(city):
    run = city.runs[("339900", 2024)]
    rows = queries.activity_rows(run, city.e1.credit_code, "2024-03")
    assert set(rows.get_column("item")) == {"raw_coal", "electricity_purchased", "natural_gas", "diesel"}
    assert {"formula", "tier", "factor_set", "co2_t"} <= set(rows.columns)
    assert queries.activity_rows(run, city.e1.credit_code, "2031-03").is_empty()


@pytest.mark.parametrize("value", ["1999", "3000", "20x4", "-1", "202"])
def test_years_out_of_range_are_404(value):
    with pytest.raises(Http404):
        queries.parse_year(value, 2024)


@pytest.mark.parametrize("value", ["0", "13", "x", "1.5"])
def test_months_out_of_range_are_404(value):
    with pytest.raises(Http404):
        queries.parse_month(value, 2024)


def test_future_months_are_404():
    year, month = queries.latest_month()
    with pytest.raises(Http404):
        queries.parse_period_key(f"{year + 1}-01")
    assert queries.parse_period_key(f"{year}-{month:02d}") == Period(year, month)
    with pytest.raises(Http404):
        queries.parse_period_key("2024-3")


def test_portals_by_role(city):
    from kiln.accounts.current import memberships

    def portal(user):
        return queries.portal_of(memberships(user)[0])

    assert portal(city.gov_a) == "government"
    assert portal(city.e1_staff) == "enterprise"
    assert portal(city.verifier_e1) == "verifier"
    assert portal(city.admin) == "platform"


def test_a_failed_or_what_if_run_is_never_read(city):
    what_if = accounting.calculate(actor=city.gov_a, region=city.city_a, year=2024,
                                   factor_set=city.sets["CN-SET-A-2024"], kind=CalculationRun.Kind.WHAT_IF)
    assert what_if not in OfficialRuns().covering(city.city_a, 2024)
