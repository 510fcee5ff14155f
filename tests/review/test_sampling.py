"""On-site sampling: reproducible, stratified, risk-weighted; audited; redrawn only as a new draw."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.audit.models import AuditEvent
from kiln.registry import credit_code
from kiln.registry.models import Enterprise
from kiln.review import sampling
from kiln.review.models import SampledEnterprise, SamplingDraw
from tests.reports.conftest import add_records
from tests.review.conftest import YEAR, m
from tests.review.test_workflow import refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(reviewers):
    """Twelve more enterprises in city A: six in the county, six directly under the city."""
    w = reviewers
    w.more = []
    for i in range(12):
        region = w.county_a if i < 6 else w.city_a
        code = credit_code.make("9", "1", region.code, f"MA{i + 10:07d}")
        e = Enterprise.objects.create(
            name=f"企业{i}",
            credit_code=code,
            region=region,
            industry=w.cement,
            size=["large", "medium", "small"][i % 3],
        )
        add_records(e, [(f"{YEAR}-01", "raw_coal", 10.0, "t", "")])
        w.more.append(e)
    return w


def draw(w, **kwargs):
    return sampling.draw(
        w.city_a,
        YEAR,
        kwargs.pop("size", 5),
        kwargs.pop("stratify_by", "county"),
        actor=w.gov_a,
        membership=m(w.gov_a),
        **kwargs,
    )


def test_same_seed_same_sample_and_verifiable(city):
    w = city
    first = draw(w, seed=20240601)
    assert first.sampled.count() == 5 and sampling.verify(first)
    assert sum(first.allocation.values()) == 5
    assert set(first.allocation) == {w.county_a.code, w.city_a.code}
    second = draw(w, seed=20240601, supersedes=first, reason="first draw had the wrong year")
    assert list(first.sampled.values_list("enterprise_id", flat=True)) == list(
        second.sampled.values_list("enterprise_id", flat=True)
    )
    assert len(first.frame) == 13 and first.population_sha256 == second.population_sha256


def test_the_draw_is_audited_and_replaced_only_by_a_new_draw(city):
    w = city
    first = draw(w, seed=1)
    event = AuditEvent.objects.filter(target_type="review.samplingdraw", target_id=str(first.pk)).get()
    assert event.after["seed"] == 1 and len(event.after["drawn"]) == 5
    refused("REV-REASON-REQUIRED", draw, w, seed=2, supersedes=first)
    second = draw(w, seed=2, supersedes=first, reason="inspectors unavailable in one county")
    assert second.supersedes == first and SamplingDraw.objects.count() == 2
    refused("REV-DRAW-SUPERSEDED", draw, w, seed=3, supersedes=first, reason="again")
    assert first.sampled.count() == 5  # the replaced draw stays as it was


def test_tampering_with_a_stored_draw_is_detected(city):
    w = city
    made = draw(w, seed=7)
    SampledEnterprise.objects.filter(draw=made, rank=1).update(
        enterprise=next(e for e in w.more if not made.sampled.filter(enterprise=e).exists())
    )
    assert not sampling.verify(made)


def test_risk_raises_the_weight(city):
    w = city
    weights = {row[0]: row[3] for row in draw(w, seed=5).frame}
    sizes = {e.pk: e.size for e in w.more}
    large = [weights[i] for i, s in sizes.items() if s == "large"]
    small = [weights[i] for i, s in sizes.items() if s == "small"]
    assert min(large) > max(small)


def test_refusals(city):
    w = city
    refused("REV-SAMPLE-SIZE", draw, w, size=99)
    refused(
        "REV-NOT-YOUR-ROLE", sampling.draw, w.city_a, YEAR, 3, "county", actor=w.gov_b, membership=m(w.gov_b)
    )
    refused(
        "REV-NOT-A-CITY", sampling.draw, w.province, YEAR, 3, "county", actor=w.gov_a, membership=m(w.gov_a)
    )
    assert not SamplingDraw.objects.exists()


def test_recording_the_on_site_result(city):
    w = city
    made = draw(w, seed=9)
    sampled = made.sampled.first()
    refused(
        "REV-BAD-RESULT",
        sampling.record_result,
        sampled,
        "pending",
        "",
        None,
        actor=w.gov_a,
        membership=m(w.gov_a),
    )
    sampling.record_result(
        sampled, "issues", "Meter calibration expired.", None, actor=w.gov_a, membership=m(w.gov_a)
    )
    sampled.refresh_from_db()
    assert sampled.result == "issues" and sampled.recorded_by == w.gov_a
    # an enterprise found with issues weighs more in the next draw
    frame = {row[0]: row[3] for row in draw(w, seed=9, supersedes=made, reason="next round").frame}
    base = {row[0]: row[3] for row in made.frame}
    assert frame[sampled.enterprise_id] > base[sampled.enterprise_id]


@given(counts=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8), data=st.data())
@settings(max_examples=60, deadline=None)
def test_allocation_is_exact_and_within_each_stratum(counts, data):
    strata = {f"s{i}": n for i, n in enumerate(counts)}
    size = data.draw(st.integers(min_value=1, max_value=sum(counts)))
    allocation = sampling.allocate(strata, size)
    assert sum(allocation.values()) == size
    assert all(0 <= allocation[s] <= strata[s] for s in strata)
