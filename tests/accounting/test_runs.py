"""Calculation runs: hand-worked totals, history never overwritten, locked factor sets, promotion."""

import pytest

from kiln.accounting import services
from kiln.accounting.models import Aggregate, CalculationRun
from kiln.audit.models import AuditEvent
from kiln.factors.errors import FactorError
from kiln.factors.models import FactorValue
from tests.accounting.conftest import COAL_T, GRID_2024, TOTAL_T, add_records


def run_for(world, factor_sets, **kwargs):
    return services.calculate(
        actor=world.gov_a, region=world.city_a, year=2024, factor_set=factor_sets["CN-DEFAULT-2024"], **kwargs
    )


def test_official_run_totals_match_the_hand_worked_figures(data, factor_sets):
    run = run_for(data, factor_sets)
    assert run.official and run.input_rows == 4
    assert run.total_co2_t == pytest.approx(TOTAL_T, rel=1e-12)
    year = Aggregate.objects.get(run=run, dimension="enterprise", key=data.e1.credit_code, period="2024")
    assert year.co2_combustion_t == pytest.approx(COAL_T, rel=1e-12)
    assert year.co2_electricity_purchased_t == pytest.approx(1500 * GRID_2024, rel=1e-12)
    jan = Aggregate.objects.get(run=run, dimension="enterprise", key=data.e1.credit_code, period="2024-01")
    assert jan.co2_total_t == pytest.approx(COAL_T + 1000 * GRID_2024, rel=1e-12)
    # Enterprises add up to the county, the county to the city, and the industry agrees.
    for dimension, key in (("county", data.county_a.code), ("city", data.city_a.code), ("industry", "C30")):
        assert Aggregate.objects.get(run=run, dimension=dimension, key=key, period="2024").co2_total_t == (
            pytest.approx(TOTAL_T, rel=1e-12)
        )


def test_a_run_records_what_made_its_numbers(data, factor_sets):
    run = run_for(data, factor_sets)
    assert len(run.inputs_sha256) == 64 and len(run.rows_sha256) == 64
    assert [s.label for s in run.factor_sets.all()] == ["CN-DEFAULT-2024@v1"]
    rows = services.rows_of(run).collect()
    assert rows.height == 4 and set(rows.get_column("tier").cast(str)) == {"default"}
    assert AuditEvent.objects.filter(target_id=str(run.pk)).exists()


def test_recomputing_creates_a_new_run_and_keeps_the_old_one(data, factor_sets):
    first = run_for(data, factor_sets)
    add_records(data.e1, [("2024-03", "raw_coal", 50.0, "t")])
    second = run_for(data, factor_sets)
    first.refresh_from_db()
    assert second.official and not first.official
    assert first.total_co2_t == pytest.approx(TOTAL_T) and second.total_co2_t > first.total_co2_t
    assert Aggregate.objects.filter(run=first).exists()


def test_a_used_factor_set_is_immutable(data, factor_sets):
    used = factor_sets["CN-DEFAULT-2024"]
    run_for(data, factor_sets)
    used.refresh_from_db()
    assert used.locked
    value = used.values.first()
    value.value = 99.0
    with pytest.raises(FactorError) as refused:
        value.save()
    assert refused.value.code == "FAC-SET-LOCKED"
    with pytest.raises(FactorError):
        value.delete()
    from kiln.factors import services as factor_services

    with pytest.raises(FactorError):
        factor_services.replace_values(used, factor_services.frame_of(used), actor=None)
    assert FactorValue.objects.filter(pk=value.pk, value=99.0).count() == 0


def test_what_if_runs_leave_the_official_result_alone_until_promoted(world, factor_sets):
    add_records(world.e1, [("2023-05", "electricity_purchased", 1000.0, "MWh")])
    fs = factor_sets["CN-DEFAULT-2024"]
    official = services.calculate(actor=world.gov_a, region=world.city_a, year=2023, factor_set=fs)
    what_if = services.calculate(
        actor=world.gov_a, region=world.city_a, year=2023, factor_set=fs, grid_series="MEE_NBS_AVG/CN",
        kind=CalculationRun.Kind.WHAT_IF,
    )
    assert not what_if.official and CalculationRun.objects.get(pk=official.pk).official
    comparison = services.compare(official, what_if, "enterprise")
    # 1000 MWh × (0.5306 MEE/NBS 2023 average − 0.5703 ETS grid factor)
    assert comparison["difference_t"].to_list() == [pytest.approx(1000 * (0.5306 - 0.5703))]
    data = world
    with pytest.raises(services.RunError) as no_reason:
        services.promote(what_if, actor=data.gov_a, reason="  ")
    assert no_reason.value.code == "ACC-REASON-REQUIRED"
    services.promote(what_if, actor=data.gov_a, reason="MEE/NBS average factor adopted by the province")
    assert CalculationRun.objects.get(pk=what_if.pk).official
    assert not CalculationRun.objects.get(pk=official.pk).official
    promoted = AuditEvent.objects.filter(target_id=str(what_if.pk)).order_by("-id").first()
    assert "MEE/NBS" in promoted.after["reason"]


def test_bad_data_is_reported_by_row_never_counted_as_zero(data, factor_sets):
    add_records(data.e1, [("2024-04", "raw_coal", 10.0, "Nm3")])
    with pytest.raises(services.RunError) as refused:
        run_for(data, factor_sets)
    assert refused.value.code == "ACC-ENGINE-ERRORS"
    assert refused.value.errors[0]["item"] == "raw_coal"
    assert not CalculationRun.objects.exists()


def test_no_data_is_a_clear_refusal(world, factor_sets):
    with pytest.raises(services.RunError) as refused:
        run_for(world, factor_sets)
    assert refused.value.code == "ACC-NO-DATA"
