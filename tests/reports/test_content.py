"""Every figure of a report is the engine's official result (the run's aggregates and per-row results)."""

from __future__ import annotations

import pytest

from kiln.accounting.models import Aggregate
from kiln.accounting.services import rows_of
from kiln.reports import content
from kiln.reports.errors import ReportError
from kiln.reports.numbers import format_number
from tests.reports.conftest import YEAR

pytestmark = pytest.mark.django_db

CATEGORIES = content.CATEGORIES


def enterprise_aggregate(run, code, period):
    return Aggregate.objects.get(run=run, dimension="enterprise", key=code, period=period)


def test_annual_totals_equal_the_official_run(reported):
    report = content.build(reported.e1, YEAR)
    agg = enterprise_aggregate(reported.run, reported.e1.credit_code, str(YEAR))
    assert report["run"]["id"] == reported.run.pk
    assert report["total_co2_t"] == agg.co2_total_t
    assert report["biomass_co2_t"] == agg.co2_biomass_t
    assert report["total_tce"] == agg.tce_total
    for line in report["by_category"]:
        assert line["co2_t"] == getattr(agg, f"co2_{line['category']}_t")
    for line in report["energy"]:
        assert line["tce"] == getattr(agg, f"tce_{line['type']}")
    assert sum(g["co2e_t"] for g in report["by_gas"] if g["estimated"]) == pytest.approx(agg.co2_total_t)


def test_sources_and_activity_sum_the_run_rows(reported):
    report = content.build(reported.e1, YEAR)
    rows = rows_of(reported.run).collect().to_pandas()
    rows = rows[rows.credit_code.astype(str) == reported.e1.credit_code]
    assert sum(s["co2_t"] for s in report["sources"]) == pytest.approx(report["total_co2_t"], rel=1e-12)
    coal = next(s for s in report["sources"] if s["item"] == "raw_coal")
    assert coal["co2_t"] == pytest.approx(rows[rows["item"].astype(str) == "raw_coal"].co2_t.sum(), rel=1e-12)
    assert coal["tier_text"]  # measured NCV every month
    clinker = next(a for a in report["activity"] if a["item"] == "clinker_output")
    assert clinker["quantity"] == pytest.approx(12 * 5000.0)
    assert clinker["months"] == 12
    effective = coal["co2_t"] / coal["quantity"]
    assert coal["effective_factor"] == pytest.approx(effective)


def test_monthly_figures_equal_the_monthly_aggregates(reported):
    report = content.build(reported.e1, YEAR)
    for month in report["monthly"]:
        agg = enterprise_aggregate(reported.run, reported.e1.credit_code, month["period"])
        assert month["co2_t"] == agg.co2_total_t
        assert month["tce"] == agg.tce_total
    assert sum(m["co2_t"] for m in report["monthly"]) == pytest.approx(report["total_co2_t"])


def test_a_monthly_report_is_that_month_of_the_run(reported):
    report = content.build(reported.e1, YEAR, f"{YEAR}-03")
    agg = enterprise_aggregate(reported.run, reported.e1.credit_code, f"{YEAR}-03")
    assert report["kind"] == "monthly"
    assert report["total_co2_t"] == agg.co2_total_t
    assert [m["period"] for m in report["monthly"]] == [f"{YEAR}-03"]
    assert report["quality"]["months_expected"] == 1


def test_factors_carry_sources_and_confidence(reported):
    report = content.build(reported.e1, YEAR)
    grid = next(
        f for f in report["factors"] if f["item"] == "electricity_purchased" and f["parameter"] == "ef"
    )
    assert grid["value"] == 0.5703 and grid["series"] == "MEE_ETS_GRID/CN"
    assert grid["source"] and grid["confidence"] in {"P", "S", "U", "DERIVED"}
    assert report["factor_set"].startswith("CN-DEFAULT-2024@v")
    assert any(m["item"] == "raw_coal.ncv" and m["mean"] == pytest.approx(21.5) for m in report["measured"])


def test_quality_and_evidence_sections(reported):
    report = content.build(reported.e1, YEAR)
    quality = report["quality"]
    assert quality["months_reported"] == 12 and quality["missing_months"] == []
    assert len(quality["deposits"]) == 12
    assert report["evidence"] == []
    assert 0 < quality["measured_share"] <= 1


def test_no_official_run_is_a_clear_error(world, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with pytest.raises(ReportError) as caught:
        content.build(world.e1, YEAR)
    assert caught.value.code == "REP-NO-OFFICIAL-RUN"


def test_enterprise_missing_from_the_run(reported):
    with pytest.raises(ReportError) as caught:
        content.build(reported.e2, YEAR)  # E2 is in city B: the city A run does not cover it
    assert caught.value.code == "REP-NO-OFFICIAL-RUN"


@pytest.mark.parametrize("text", ["24", "2024-13", "abcd", "2999", "2999-01", ""])
def test_bad_periods(text):
    with pytest.raises(ReportError) as caught:
        content.parse_period(text)
    assert caught.value.code == "REP-BAD-PERIOD"


def test_number_format():
    assert format_number(1234.565, 2) == "1,234.57" or format_number(1234.565, 2) == "1,234.56"
    assert format_number(-0.0001, 2) == "0.00"
    assert format_number(None) == "—"
    assert format_number(float("nan")) == "—"
