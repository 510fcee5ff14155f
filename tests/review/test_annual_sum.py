"""Screening rule KLN-XSRC-003: a year's monthly data against the submitted annual report (the figures
snapshot of ``review.Submission``'s current version)."""

from __future__ import annotations

import pytest

from kiln.intake.models import ActivityRecord
from kiln.review import queries, services
from kiln.screening import services as screening
from kiln.screening.models import Finding
from tests.review.conftest import YEAR, m
from tests.review.helpers import opened, submitted

pytestmark = pytest.mark.django_db
RULE = "KLN-XSRC-003"


def screen(w):
    return screening.run_screening(
        actor=None, trigger="cli", first=f"{YEAR}-01", last=f"{YEAR}-12", region=w.city_a
    )


def test_silent_while_the_months_add_up_to_the_submitted_annual_report(reviewers):
    w = reviewers
    sub = submitted(w)
    annual = queries.annual_figures(type(w.e1).objects.filter(pk=w.e1.pk), [YEAR])
    assert ("raw_coal", "1号窑") in set(zip(annual["item"], annual["facility"], strict=True))
    assert annual.filter(item="raw_coal")["quantity"].item() == pytest.approx(
        sum(100.0 + i for i in range(12))
    )
    run = screen(w)
    assert RULE not in {rule for rule, _why in run.skipped}
    assert not Finding.objects.filter(rule_id=RULE).exists()
    assert sub.current_version is not None


def test_fires_when_a_month_is_corrected_after_the_annual_report(reviewers):
    w = reviewers
    submitted(w)
    coal = sum(100.0 + i for i in range(12))
    # March's coal is corrected after the annual report went in (intake keeps the old row as a version)
    ActivityRecord.objects.filter(enterprise=w.e1, period=f"{YEAR}-03", item="raw_coal").update(
        quantity=150.0, canonical_quantity=150.0, version=2
    )
    screen(w)
    finding = Finding.objects.get(rule_id=RULE)
    assert (finding.enterprise, finding.period, finding.item, finding.facility) == (
        w.e1,
        str(YEAR),
        "raw_coal",
        "1号窑",
    )
    assert finding.value == pytest.approx(coal - 102.0 + 150.0) and finding.reference == pytest.approx(coal)
    assert finding.score == pytest.approx(48.0 / coal)
    # the monthly self-check of December sees the whole year: it warns too
    december = opened(w, f"{YEAR}-12")
    check = services.run_self_check(december, actor=w.e1_staff, membership=m(w.e1_staff))
    warned = [f for f in check.results if f["code"] == RULE]
    assert [(f["severity"], f["period"], f["item"]) for f in warned] == [("warning", str(YEAR), "raw_coal")]
    # put back, a later run no longer finds it
    ActivityRecord.objects.filter(enterprise=w.e1, period=f"{YEAR}-03", item="raw_coal").update(
        quantity=102.0, canonical_quantity=102.0, version=3
    )
    screen(w)
    finding.refresh_from_db()
    assert not finding.present_in_latest


def test_a_report_being_corrected_is_not_the_annual_side(reviewers):
    w = reviewers
    sub = submitted(w)
    from tests.review.helpers import act

    act(sub, "start_preliminary", w.gov_county)
    act(sub, "return", w.gov_county, comment="Check the coal")
    assert queries.annual_figures(type(w.e1).objects.filter(pk=w.e1.pk), [YEAR]).is_empty()
