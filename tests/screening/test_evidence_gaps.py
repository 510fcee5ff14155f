"""KLN-COMP-002 over stored data: one finding per gap of missing evidence, regraded as the gap grows,
kept across runs whose window moved on; the deposit deadline comes from ``KILN_DEPOSIT_DEADLINE_DAYS``."""

from __future__ import annotations

import datetime

import polars as pl
import pytest

from kiln.screening import services
from kiln.screening.errors import ScreeningError
from kiln.screening.models import Finding, RuleVersion, Severity

RULE = "KLN-COMP-002"


@pytest.fixture
def obliged(reported):
    reported.e1.key_emitter = True
    reported.e1.save(update_fields=["key_emitter"])
    return reported


def set_params(**params) -> None:
    rule = RuleVersion.objects.filter(rule_id=RULE).order_by("-version").first()
    fields = {f: getattr(rule, f) for f in services.RULE_FIELDS} | {"params": {**rule.params, **params}}
    services.save_rule(actor=None, rule_id=RULE, fields=fields)


def screen(first: str, last: str, today: datetime.date):
    return services.run_screening(actor=None, trigger="cli", first=first, last=last, today=today)


def gaps(world) -> list[tuple]:
    return list(
        Finding.objects.filter(rule_id=RULE, enterprise=world.e1)
        .order_by("period")
        .values_list("period", "detail", "value", "severity", "status")
    )


def test_a_gap_is_one_finding_that_grows_into_a_blocking_error(obliged):
    world = obliged
    set_params(start="2025-01")
    screen("2025-01", "2025-06", datetime.date(2025, 4, 15))  # January and February are past the deadline
    assert gaps(world) == [("2025-01", "2025-01..2025-02", 2.0, Severity.WARNING, Finding.Status.OPEN)]
    finding = Finding.objects.get(rule_id=RULE)
    Finding.objects.filter(pk=finding.pk).update(status=Finding.Status.ACKNOWLEDGED)
    screen("2025-01", "2025-06", datetime.date(2025, 7, 15))  # now January to May: 5 months > 3
    assert gaps(world) == [("2025-01", "2025-01..2025-05", 5.0, Severity.ERROR, Finding.Status.OPEN)]
    event = finding.events.get(action="regraded")
    assert (event.from_status, event.to_status, event.comment) == ("acknowledged", "open", "warning → error")
    assert not Finding.objects.filter(rule_id=RULE, enterprise=world.e2).exists()  # not obliged


def test_the_deadline_is_the_deposit_setting(obliged, settings):
    settings.KILN_DEPOSIT_DEADLINE_DAYS = 10
    set_params(start="2025-01")
    screen("2025-01", "2025-06", datetime.date(2025, 4, 15))  # March's deadline (04-10) has passed too
    assert gaps(obliged)[0][1] == "2025-01..2025-03"
    set_params(deadline_days=60)  # the rule's own deadline wins
    screen("2025-01", "2025-06", datetime.date(2025, 4, 15))
    assert [g[1] for g in gaps(obliged)] == ["2025-01"]


def test_a_gap_older_than_the_context_keeps_its_finding(obliged):
    world = obliged
    screen("2024-01", "2024-06", datetime.date(2026, 1, 15))  # context from 2023-01: the gap starts 2024-01
    assert gaps(world) == [("2024-01", "2024-01..2024-06", 6.0, Severity.ERROR, Finding.Status.OPEN)]
    screen("2025-03", "2025-06", datetime.date(2026, 1, 15))  # context from 2024-03 only
    assert gaps(world) == [("2024-01", "2024-01..2025-06", 18.0, Severity.ERROR, Finding.Status.OPEN)]


def test_a_start_must_be_a_month(obliged):
    with pytest.raises(ScreeningError):
        set_params(start="soon")


def test_an_import_keeps_the_gaps_it_touches():
    findings = pl.DataFrame(
        {
            "rule_id": [RULE, RULE, "KLN-JUMP-002"],
            "check": ["missing_evidence", "missing_evidence", "jump_median"],
            "credit_code": ["E1", "E2", "E1"],
            "period": ["2025-01", "2025-01", "2025-02"],
            "item": ["", "", "natural_gas"],
            "facility": ["", "", ""],
            "detail": ["2025-01..2025-04", "2025-01", None],
        }
    )
    cells = pl.DataFrame({"credit_code": ["E1", "E2"], "period": ["2025-03", "2025-03"]})
    assert services._in_cells(findings, cells).rows() == [findings.row(0)]


def test_pages_show_the_gap_its_months_and_the_electricity(obliged, signed):
    from django.urls import reverse

    world = obliged
    set_params(start="2025-01")
    screen("2025-01", "2025-06", datetime.date(2025, 5, 15))  # January to March
    gap = Finding.objects.get(rule_id=RULE)
    client = signed(world.e1_staff)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("screening:enterprise", args=[world.e1.credit_code])).content.decode()
    assert "2025-01 to 2025-03" in page and "(months with reported data: 3)" in page
    for month in ("2025-01", "2025-02", "2025-03"):
        assert reverse("intake:deposit-month", args=[world.e1.credit_code, month]) in page
    assert "Metered and reported electricity" in page and "All months" in page  # E1 has a meter
    reviewer = signed(world.gov_a)
    reviewer.cookies["django_language"] = "en"
    detail = reviewer.get(reverse("screening:finding", args=[gap.pk])).content.decode()
    assert "2025-01 to 2025-03" in detail and "raised by screening" in detail
    dashboard = reviewer.get(reverse("screening:dashboard")).content.decode()
    assert ">Yellow</span>" in dashboard and ">yellow</span>" not in dashboard


def test_no_electricity_section_without_electricity(world, signed):
    from django.urls import reverse

    client = signed(world.e2_staff)
    page = client.get(reverse("screening:enterprise", args=[world.e2.credit_code])).content.decode()
    assert "grid/enterprises/" not in page  # no heading, no link: nothing to show


def test_the_migration_brings_the_shipped_rule_up_to_date(db):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("kiln.screening.migrations.0004_missing_evidence_gaps")
    old = {
        "params": {"deadline_days": 40},
        "message_zh": "{period} 未存证",
        "message_en": "{period} no evidence",
    }
    RuleVersion.objects.filter(rule_id=RULE).update(used=True, **old)
    migration.forward(apps, None)
    latest = RuleVersion.objects.filter(rule_id=RULE).order_by("-version")
    assert [r.version for r in latest] == [2, 1]
    assert latest[0].params == {"start": "", "error_over_months": 3} and "{detail}" in latest[0].message_en
    assert latest[1].params == {"deadline_days": 40} and not latest[0].used  # the used version is untouched
    migration.forward(apps, None)  # a rule with a later version is left alone
    assert RuleVersion.objects.filter(rule_id=RULE).count() == 2
    RuleVersion.objects.filter(rule_id=RULE, version=2).delete()
    RuleVersion.objects.filter(rule_id=RULE).update(used=False)
    migration.forward(apps, None)  # unused: changed in place
    assert list(RuleVersion.objects.filter(rule_id=RULE).values_list("version", "params")) == [
        (1, {"start": "", "error_over_months": 3})
    ]
