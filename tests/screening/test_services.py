"""Screening runs over stored data: findings stored, routed, matched across runs; the import hook."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction

from kiln.screening import services
from kiln.screening.models import AnomalyScore, Finding, FindingEvent, Level, RuleVersion, ScreeningRun
from tests.screening.conftest import import_rows


def test_a_run_finds_the_spike_and_the_under_report(screened):
    world, run = screened
    found = set(Finding.objects.values_list("rule_id", "enterprise__credit_code", "period", "item"))
    assert ("KLN-JUMP-002", world.e1.credit_code, "2025-03", "natural_gas") in found
    assert ("KLN-XSRC-001", world.e1.credit_code, "2025-02", "electricity_purchased") in found
    assert (
        not Finding.objects.filter(enterprise=world.e2).exclude(rule_id__startswith="KLN-COMP-002").exists()
    )
    assert run.findings_total == Finding.objects.count() == run.findings_new
    assert run.input_rows == 2 * 18 * 3
    assert RuleVersion.objects.filter(used=True).count() == run.rule_versions.count() > 40
    assert AnomalyScore.objects.filter(run=run).count() == 2 * 6
    top = AnomalyScore.objects.filter(run=run).order_by("rank").first()
    assert top.enterprise_id == world.e1.pk and top.period in ("2025-02", "2025-03")


def test_findings_go_to_the_nearest_level_with_a_department(screened):
    # The personas have city departments only, so province-routed findings land at the city.
    assert set(Finding.objects.values_list("level", flat=True)) == {Level.CITY}
    assert FindingEvent.objects.filter(action="created").count() == Finding.objects.count()


def test_a_second_run_updates_open_findings_instead_of_duplicating_them(screened):
    world, first = screened
    second = services.run_screening(
        actor=None, trigger="cli", first="2025-01", last="2025-06", today=datetime.date(2026, 1, 15)
    )
    assert second.findings_new == 0 and second.findings_total == first.findings_total
    assert Finding.objects.count() == first.findings_total
    assert set(Finding.objects.values_list("last_run", flat=True)) == {second.pk}


def test_a_correction_clears_present_in_latest(screened):
    world, _run = screened
    spike = Finding.objects.get(rule_id="KLN-JUMP-002", enterprise=world.e1)
    import polars as pl

    from kiln.intake.services import import_activity

    fixed = pl.DataFrame(
        [
            {
                "credit_code": world.e1.credit_code,
                "period": "2025-03",
                "item": "natural_gas",
                "quantity": "101",
                "unit": "1e4Nm3",
            }
        ]
    )
    assert import_activity(fixed, actor=None, membership=None, door="cli", correction_reason="typo").ok
    services.run_screening(
        actor=None, trigger="cli", first="2025-01", last="2025-06", today=datetime.date(2026, 1, 15)
    )
    spike.refresh_from_db()
    assert spike.present_in_latest is False


def test_screening_an_import_batch_keeps_only_its_enterprise_months(reported):
    world = reported
    from kiln.intake.models import ImportBatch

    batch = ImportBatch.objects.filter(status="imported").order_by("id").first()  # E1's
    run = services.screen_batch(batch.pk)
    assert run.trigger == ScreeningRun.Trigger.IMPORT and run.import_batch_id == batch.pk
    assert set(Finding.objects.values_list("enterprise", flat=True)) == {world.e1.pk}


@pytest.mark.django_db(transaction=True)
def test_the_import_hook_screens_after_commit(settings):
    from huey.contrib.djhuey import HUEY

    from tests.personas import build_world

    # An earlier transactional test may have flushed the starter rules the migration loaded.
    if not RuleVersion.objects.exists():
        import importlib

        from django.apps import apps

        importlib.import_module("kiln.screening.migrations.0002_starter_rules").load(apps, None)
    world = build_world()
    HUEY.immediate = True
    try:
        import_rows(
            [
                r
                for r in __import__("tests.screening.conftest", fromlist=["x"]).activity_rows(
                    world.e1.credit_code, spike=True
                )
            ]
        )
    finally:
        HUEY.immediate = False
    run = ScreeningRun.objects.get()
    assert run.trigger == ScreeningRun.Trigger.IMPORT
    assert Finding.objects.filter(rule_id="KLN-JUMP-002", enterprise=world.e1, period="2025-03").exists()


def test_the_import_hook_does_nothing_when_the_import_rolls_back(
    reported, django_capture_on_commit_callbacks
):
    from kiln.intake.models import ImportBatch

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        ImportBatch.objects.create(door="cli", status="imported")
        raise RuntimeError
    assert callbacks == []


def test_periods_for_and_last_months():
    assert services.periods_for(period="2025-03") == ("2025-03", "2025-03")
    assert services.periods_for(year=2024) == ("2024-01", "2024-12")
    with pytest.raises(services.ScreeningError):
        services.periods_for(period="2025-13")
    assert services.last_months(3, datetime.date(2026, 3, 10)) == ("2025-12", "2026-02")
