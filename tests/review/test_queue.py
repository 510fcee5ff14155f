"""The reviewer queue's order: what waits for the reviewer first (oldest submission first), then returned
and draft reports, finished ones last; one query, scoped as visible_submissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kiln.review import queries
from kiln.review.models import ReportType, State, Submission
from tests.review.conftest import YEAR, m

pytestmark = pytest.mark.django_db


def make(enterprise, month: int, state: str, days_ago: int | None) -> Submission:
    submitted_at = None if days_ago is None else timezone.now() - timedelta(days=days_ago)
    return Submission.objects.create(
        enterprise=enterprise,
        report_type=ReportType.MONTHLY,
        period=f"{YEAR}-{month:02d}",
        year=YEAR,
        state=state,
        submitted_at=submitted_at,
    )


@pytest.fixture
def subs(world):
    w = world
    return {
        "approved_old": make(w.e1, 1, State.APPROVED, 90),
        "returned": make(w.e1, 2, State.RETURNED, 60),
        "final_new": make(w.e1, 3, State.FINAL, 5),
        "submitted_old": make(w.e1, 4, State.SUBMITTED, 40),
        "preliminary_mid": make(w.e1, 5, State.PRELIMINARY, 20),
        "submitted_new": make(w.e1, 6, State.SUBMITTED, 1),
        "approved_new": make(w.e1, 7, State.APPROVED, 2),
        "draft": make(w.e1, 8, State.DRAFT, None),
        "outside": make(w.e2, 4, State.SUBMITTED, 100),  # city B: not gov_a's
    }


def test_queue_puts_reports_awaiting_action_first_oldest_first(world, subs, django_assert_num_queries):
    membership = m(world.gov_a)
    with django_assert_num_queries(1):
        rows = list(queries.queue(membership))
    assert [s.pk for s in rows] == [
        subs[k].pk
        for k in (
            "submitted_old",
            "preliminary_mid",
            "final_new",
            "submitted_new",
            "returned",
            "approved_old",
            "approved_new",
        )
    ]


def test_queue_keeps_its_scope_and_filters(world, subs):
    assert [s.pk for s in queries.queue(m(world.gov_a), state=State.DRAFT)] == [subs["draft"].pk]
    assert [s.pk for s in queries.queue(m(world.gov_a), state=State.SUBMITTED)] == [
        subs["submitted_old"].pk,
        subs["submitted_new"].pk,
    ]
    assert [s.pk for s in queries.queue(m(world.gov_b))] == [subs["outside"].pk]
    assert not queries.queue(m(world.e2_staff)).filter(enterprise=world.e1).exists()
