"""Grading a year from the official accounting run: hand-worked results, history, configuration versions,
green power from the run's per-row results, rolling windows, and the real accounting service end to end."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kiln.accounting.services import calculate
from kiln.audit.models import AuditEvent
from kiln.efficiency import queries
from kiln.efficiency.errors import EfficiencyError
from kiln.efficiency.models import EfficiencyConfig, EfficiencyResult, EfficiencyRun
from kiln.efficiency.services import current_config, grade_year, new_config
from tests.efficiency.conftest import add_economic, add_enterprise, make_run, membership_of


def result(run, enterprise, period=None):
    return EfficiencyResult.objects.get(run=run, enterprise=enterprise, period=period or str(run.year))


def test_hand_worked_grades(graded):
    w = graded
    e1, e3 = result(w.run_2024, w.e1), result(w.run_2024, w.e3)
    assert (e1.l_value, e1.level, e1.industry_mean_l, e1.k_value, e1.grade) == (
        pytest.approx(0.8),
        "medium",
        pytest.approx(1.0),
        pytest.approx(0.8),
        2,
    )
    assert (e3.l_value, e3.k_value, e3.grade) == (pytest.approx(1.2), pytest.approx(1.2), 3)
    assert e1.industry_key == "C30" and e1.industry_n == 2 and e1.reason == ""
    e4 = result(w.run_2024, w.e4)
    assert e4.grade is None and e4.l_value is None and e4.reason == "EFF-NO-VALUE-ADDED"
    assert e4.co2_gross_t == pytest.approx(10.0)
    old = result(w.run_2023, w.e1), result(w.run_2023, w.e3)
    assert [r.grade for r in old] == [1, 4]
    assert w.run_2024.graded == 2 and w.run_2024.not_graded == 1
    assert e1.economic_record.year == 2024 and e1.value_added_10k_cny == 100.0


def test_grading_is_audited(graded):
    event = AuditEvent.objects.get(target_type="efficiency.efficiencyrun", target_id=str(graded.run_2024.pk))
    assert event.after["graded"] == 2 and event.after["config"] == 1


def test_unchanged_inputs_reuse_the_grading_and_force_makes_history(graded):
    w = graded
    assert grade_year(actor=None, year=2024).pk == w.run_2024.pk
    again = grade_year(actor=w.admin, year=2024, force=True)
    w.run_2024.refresh_from_db()
    assert again.pk != w.run_2024.pk and again.current and not w.run_2024.current
    assert EfficiencyResult.objects.filter(run=w.run_2024).count() == 3  # history kept
    assert again.created_by == w.admin


def test_new_economic_version_regrades_and_keeps_the_old_results(graded):
    w = graded
    from kiln.efficiency.services import import_economic
    from tests.registry.files import csv_bytes

    import_economic(
        csv_bytes([["credit_code", "year", "value_added_10k_cny"], [w.e1.credit_code, "2024", "50"]]),
        actor=None,
        membership=None,
        door="cli",
    )
    regraded = grade_year(actor=None, year=2024)
    assert regraded.pk != w.run_2024.pk
    now = result(regraded, w.e1)
    assert now.l_value == pytest.approx(1.6) and now.economic_record.version == 2
    # Weighted mean (80 + 120) / (50 + 100) = 1.3333; K = 1.6 / 1.3333 = 1.2 → grade 3.
    assert now.k_value == pytest.approx(1.2) and now.grade == 3
    assert result(w.run_2024, w.e1).grade == 2  # the old grading is unchanged


def test_configuration_versions_and_their_use(graded):
    w = graded
    v1 = current_config()
    v2 = new_config(actor=w.admin, mean_kind="simple", grade_2_max=0.85, note="test")
    v1.refresh_from_db()
    assert (v1.version, v1.mean_kind, v1.grade_2_max) == (1, "weighted", 0.8)
    assert (v2.version, v2.mean_kind, v2.grade_2_max, v2.source) == (2, "simple", 0.85, v1.source)
    assert "S31" in v2.source and "DB33/T 1347-2023" in v2.source
    regraded = grade_year(actor=None, year=2024)
    assert regraded.config == v2 and regraded.pk != w.run_2024.pk
    with pytest.raises(ValidationError):
        new_config(actor=None, grade_1_max=0.9)  # above grade 2's bound
    with pytest.raises(ValidationError):
        new_config(actor=None, colours={"level": {}, "grade": {}, "neutral": {}})
    assert EfficiencyConfig.objects.count() == 2


def test_process_emissions_are_a_setting(world):
    e3 = add_enterprise(world, "E3", "MA0000003")
    make_run(
        world.city_a,
        2024,
        {
            world.e1.credit_code: {"co2_combustion_t": 10.0, "co2_process_t": 90.0},
            e3.credit_code: {"co2_combustion_t": 10.0},
        },
    )
    add_economic(world.e1, 2024, 100)
    add_economic(e3, 2024, 100)
    without = result(grade_year(actor=None, year=2024), world.e1)
    assert without.co2_gross_t == pytest.approx(10.0) and without.co2_process_t == pytest.approx(90.0)
    new_config(actor=None, include_process=True)
    with_process = result(grade_year(actor=None, year=2024), world.e1)
    assert with_process.co2_gross_t == pytest.approx(100.0) and with_process.l_value == pytest.approx(1.0)


def test_no_official_run(world):
    with pytest.raises(EfficiencyError) as excinfo:
        grade_year(actor=None, year=2024)
    assert excinfo.value.code == "EFF-NO-OFFICIAL-RUN"
    make_run(world.city_b, 2024, {}, official=False)
    with pytest.raises(EfficiencyError):
        grade_year(actor=None, year=2024, region=world.city_b)


def test_green_power_from_the_run_rows_is_netted_with_the_grid_factor(world, factor_sets):
    fs = factor_sets["CN-DEFAULT-2024"]
    make_run(
        world.city_a,
        2024,
        {world.e1.credit_code: {"co2_electricity_purchased_t": 570.3}},
        green={(world.e1.credit_code, "2024-03"): 60.0, (world.e1.credit_code, "2024-04"): 40.0},
        factor_set=fs,
    )
    add_economic(world.e1, 2024, 1000)
    run = grade_year(actor=None, year=2024)
    assert run.grid_factor == pytest.approx(0.5703)
    r = result(run, world.e1)
    assert r.green_mwh == pytest.approx(100.0) and r.co2_avoided_t == pytest.approx(57.03)
    assert r.co2_net_t == pytest.approx(570.3 - 57.03)
    assert r.l_value == pytest.approx((570.3 - 57.03) / 1000)
    assert r.neutral_rate == pytest.approx(0.1) and r.neutral_mark == "medium"


def test_rolling_twelve_months(world):
    e3 = add_enterprise(world, "E3", "MA0000003")
    months_2023 = {f"2023-{m:02d}" for m in range(1, 13)}
    monthly_2023 = {
        (e.credit_code, p): {"co2_combustion_t": 1.0} for e in (world.e1, e3) for p in months_2023
    }
    make_run(world.city_a, 2023, {world.e1.credit_code: {"co2_combustion_t": 12.0}}, monthly=monthly_2023)
    monthly_2024 = {
        (world.e1.credit_code, "2024-01"): {"co2_combustion_t": 13.0},
        (e3.credit_code, "2024-01"): {"co2_combustion_t": 1.0},
    }
    make_run(world.city_a, 2024, {world.e1.credit_code: {"co2_combustion_t": 13.0}}, monthly=monthly_2024)
    for e in (world.e1, e3):
        add_economic(e, 2023, 120)
        add_economic(e, 2024, 120)
    run = grade_year(actor=None, year=2024)
    assert run.previous_calculation is not None
    rolling = {r.enterprise_id: r for r in EfficiencyResult.objects.filter(run=run, period_kind="rolling12")}
    assert set(rolling) == {world.e1.pk, e3.pk} and rolling[world.e1.pk].period == "2024-01"
    # E1: 11 × 1 + 13 = 24 t over 120 (10^4 CNY) → 0.2; E3: 12 / 120 = 0.1; weighted mean 36 / 240 = 0.15.
    assert rolling[world.e1.pk].l_value == pytest.approx(0.2) and rolling[e3.pk].l_value == pytest.approx(0.1)
    assert rolling[world.e1.pk].k_value == pytest.approx(0.2 / 0.15) and rolling[world.e1.pk].grade == 4
    assert [r.period for r in queries.rolling(world.e1, 2024)] == ["2024-01"]


def test_the_broadest_grading_counts(graded):
    w = graded
    make_run(
        w.province,
        2024,
        {
            w.e1.credit_code: {"co2_combustion_t": 80.0},
            w.e3.credit_code: {"co2_combustion_t": 120.0},
            w.e2.credit_code: {"co2_combustion_t": 400.0},
        },
    )
    add_economic(w.e2, 2024, 100)
    province = grade_year(actor=None, year=2024)  # no region: the broadest official run
    assert (
        province.region == w.province and EfficiencyRun.objects.filter(year=2024, current=True).count() == 2
    )
    assert queries.counting_runs(2024) == [province]
    # Province-wide C30: (80 + 120 + 400) / 300 = 2.0; E1 K = 0.4 → grade 1.
    mine = queries.results(membership_of(w.gov_a), 2024)
    assert {r.run_id for r in mine} == {province.pk}
    assert {r.enterprise_id: r.grade for r in mine}[w.e1.pk] == 1
    assert w.e2.pk not in {r.enterprise_id for r in mine}  # region B stays out of region A's view


def test_end_to_end_from_reported_activity(world, factor_sets):
    from tests.accounting.conftest import TOTAL_T, add_records

    add_records(world.e1)
    add_records(
        world.e1, [("2024-03", "electricity_green_self", 100.0, "MWh"), ("2024-03", "limestone", 10.0, "t")]
    )
    calculate(actor=world.gov_a, region=world.city_a, year=2024, factor_set=factor_sets["CN-DEFAULT-2024"])
    add_economic(world.e1, 2024, 500)
    run = grade_year(actor=world.gov_a, year=2024, region=world.county_a)
    r = result(run, world.e1)
    assert r.co2_gross_t == pytest.approx(TOTAL_T)  # limestone is process CO2: not counted by default
    assert r.co2_process_t > 0
    assert r.co2_avoided_t == pytest.approx(100 * 0.5703)
    assert r.l_value == pytest.approx((TOTAL_T - 57.03) / 500)
    assert r.grade == 3 and r.k_value == pytest.approx(1.0)  # alone in its industry
