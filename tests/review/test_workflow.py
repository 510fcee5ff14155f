"""The review workflow: the transition table, who may act when, versions, comments, locking, refusals."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import translation

from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent
from kiln.intake.models import ActivityRecord, EnterpriseMonth
from kiln.review import services, workflow
from kiln.review.errors import ReviewError
from kiln.review.models import ReviewComment, State, Submission, SubmissionVersion, Transition
from tests.reports.conftest import add_records, calculate
from tests.review.conftest import YEAR, m
from tests.review.helpers import act, checked, in_final, opened, submitted

pytestmark = pytest.mark.django_db


def refusals(code=None):
    qs = AuditEvent.objects.filter(event_type=EventType.ACTION_REFUSED, after__has_key="refused")
    return [e for e in qs if code is None or e.after.get("code") == code]


def refused(code, fn, *args, **kwargs):
    before_events = len(refusals(code))
    with pytest.raises(ReviewError) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, caught.value
    assert str(caught.value.message)
    assert len(refusals(code)) == before_events + 1, "every refusal is audited"
    return caught.value


def test_the_transition_table_is_explicit_and_closed():
    assert set(workflow.TRANSITIONS) == set(State.values)
    assert workflow.TRANSITIONS[State.APPROVED] == {}
    for state, moves in workflow.TRANSITIONS.items():
        assert set(moves.values()) <= set(State.values), state


def test_draft_to_approved_with_three_reviewers(reviewers):
    w = reviewers
    sub = checked(w)
    assert workflow.available_transitions(sub, w.e1_staff) == ["submit"]
    assert workflow.available_transitions(sub, w.gov_a) == []
    act(sub, "submit", w.e1_staff)
    sub.refresh_from_db()
    assert sub.state == State.SUBMITTED and sub.current_version.number == 1
    version = sub.current_version
    assert version.figures["total_co2_t"] == pytest.approx(w.run.total_co2_t)
    assert len(version.rows_sha256) == 64 and version.run_id == w.run.pk
    assert "start_preliminary" in workflow.available_transitions(sub, w.gov_county)
    assert "withdraw" in workflow.available_transitions(sub, w.e1_staff)
    act(sub, "start_preliminary", w.gov_county)
    act(sub, "pass_preliminary", w.gov_county)
    sub.refresh_from_db()
    assert sub.state == State.FINAL and sub.preliminary_passed_by == w.gov_county
    assert workflow.available_transitions(sub, w.gov_county) == []  # a county cannot do the final review
    assert set(workflow.available_transitions(sub, w.gov_province)) == {"approve", "return"}
    act(sub, "approve", w.gov_province)
    sub.refresh_from_db()
    assert sub.state == State.APPROVED and sub.approved_by == w.gov_province
    frozen = EnterpriseMonth.objects.filter(enterprise=w.e1, period__startswith=f"{YEAR}-", frozen=True)
    assert frozen.count() == 12
    assert list(
        Transition.objects.filter(submission=sub).order_by("at", "id").values_list("action", flat=True)
    ) == ["submit", "start_preliminary", "pass_preliminary", "approve"]
    assert AuditEvent.objects.filter(target_type="review.submission", event_type=305).exists()


def test_acting_out_of_turn_is_refused_audited_and_changes_nothing(reviewers):
    w = reviewers
    sub = checked(w)
    revision = sub.version
    refused("REV-NOT-ALLOWED-NOW", act, sub, "approve", w.gov_province)  # approving a draft
    refused("REV-NOT-YOUR-ROLE", act, sub, "submit", w.gov_a)  # a reviewer submitting for the enterprise
    sub.refresh_from_db()
    assert (sub.state, sub.version) == (State.DRAFT, revision)
    sub = in_final(w)
    revision = sub.version
    refused("REV-NOT-YOUR-ROLE", act, sub, "approve", w.gov_county)  # county reviewer approving final
    refused("REV-NOT-YOUR-ROLE", act, sub, "approve", w.e1_staff)
    refused("REV-NOT-YOUR-ROLE", act, sub, "approve", w.gov_b)  # another city
    sub.refresh_from_db()
    assert (sub.state, sub.version) == (State.FINAL, revision)
    assert not EnterpriseMonth.objects.filter(enterprise=w.e1, frozen=True).exists()


def test_the_preliminary_reviewer_cannot_do_the_final_review(reviewers):
    w = reviewers
    sub = submitted(w)
    act(sub, "start_preliminary", w.gov_a)  # the city does the preliminary review
    act(sub, "pass_preliminary", w.gov_a)
    refused("REV-SAME-REVIEWER", act, sub, "approve", w.gov_a)
    act(sub, "approve", w.gov_province)


def test_submit_needs_a_fresh_clean_self_check_with_explained_warnings(reviewers):
    w = reviewers
    sub = opened(w)
    refused("REV-SELF-CHECK-MISSING", act, sub, "submit", w.e1_staff)
    check = services.run_self_check(sub, actor=w.e1_staff, membership=m(w.e1_staff))
    warnings = [f for f in check.results if f["severity"] == "warning"]
    assert warnings, "no evidence deposited: a warning for a non-key emitter"
    refused("REV-WARNINGS-NOT-ACKNOWLEDGED", act, sub, "submit", w.e1_staff)
    refused(
        "REV-EXPLANATION-REQUIRED",
        services.acknowledge,
        sub,
        warnings[0]["key"],
        "  ",
        actor=w.e1_staff,
        membership=m(w.e1_staff),
    )
    refused(
        "REV-UNKNOWN-FINDING",
        services.acknowledge,
        sub,
        "nope",
        "x",
        actor=w.e1_staff,
        membership=m(w.e1_staff),
    )
    for f in warnings:
        services.acknowledge(
            sub,
            f["key"],
            "Evidence is kept on paper at the plant.",
            actor=w.e1_staff,
            membership=m(w.e1_staff),
        )
    # the data change after the check: the check is stale
    add_records(w.e1, [(f"{YEAR}-12", "diesel", 1.0, "t", "")])
    refused("REV-SELF-CHECK-STALE", act, sub, "submit", w.e1_staff)


def test_blocking_errors_must_be_fixed(reviewers):
    w = reviewers
    ActivityRecord.objects.filter(enterprise=w.e1, period=f"{YEAR}-07").delete()
    w.run = calculate(w)
    sub = opened(w)
    check = services.run_self_check(sub, actor=w.e1_staff, membership=m(w.e1_staff))
    assert any(f["code"] == "REV-SC-MONTH" and f["period"] == f"{YEAR}-07" for f in check.results)
    for f in check.results:
        if f["severity"] == "warning":
            services.acknowledge(sub, f["key"], "ok", actor=w.e1_staff, membership=m(w.e1_staff))
    refused("REV-SELF-CHECK-ERRORS", act, sub, "submit", w.e1_staff)


def test_a_stale_official_run_blocks_until_recalculated(reviewers):
    w = reviewers
    add_records(w.e1, [(f"{YEAR}-05", "diesel", 3.0, "t", "")])  # after the official run
    sub = opened(w)
    check = services.run_self_check(sub, actor=w.e1_staff, membership=m(w.e1_staff))
    assert any(f["code"] == "REV-SC-RUN-STALE" for f in check.results)
    w.run = calculate(w)
    check = services.run_self_check(sub, actor=w.e1_staff, membership=m(w.e1_staff))
    assert not any(f["severity"] == "error" for f in check.results)


def test_a_reviewer_recalculates_a_stale_run_and_the_check_runs_again(reviewers):
    from types import SimpleNamespace

    from kiln.accounting.models import CalculationRun
    from kiln.notifications.models import Notification
    from kiln.review import queries

    w = reviewers
    old = w.run
    add_records(w.e1, [(f"{YEAR}-05", "diesel", 3.0, "t", "")])  # a correction after the official run
    sub = opened(w)
    refused(
        "REV-RUN-NOT-STALE", services.recalculate, sub, actor=w.gov_a, membership=m(w.gov_a)
    )  # no check yet
    services.run_self_check(sub, actor=w.e1_staff, membership=m(w.e1_staff))
    sub.refresh_from_db()
    assert services.stale_run(sub) and services.stale_run(sub, m(w.gov_a))
    assert [s.pk for s in queries.stale_run_submissions(m(w.gov_a))] == [sub.pk]
    assert queries.stale_run_submissions(m(w.gov_b)) == []  # another city sees nothing
    # neither a county reviewer nor the enterprise recalculates; a city never a province-wide run
    assert not services.stale_run(sub, m(w.gov_county))
    refused("REV-NOT-YOUR-ROLE", services.recalculate, sub, actor=w.gov_county, membership=m(w.gov_county))
    refused("REV-NOT-YOUR-ROLE", services.recalculate, sub, actor=w.e1_staff, membership=m(w.e1_staff))
    province_run = SimpleNamespace(region=w.province)
    assert not workflow.can_recalculate(m(w.gov_a), sub, province_run)
    assert workflow.can_recalculate(m(w.gov_province), sub, province_run)
    refused("REV-STALE", services.recalculate, sub, actor=w.gov_a, membership=m(w.gov_a), expected_version=0)

    check, run = services.recalculate(sub, actor=w.gov_a, membership=m(w.gov_a), expected_version=sub.version)
    old.refresh_from_db()
    assert run.official and not old.official
    assert (run.region, run.year, run.grid_series) == (old.region, old.year, old.grid_series)
    assert list(run.factor_sets.all()) == list(old.factor_sets.all())
    assert check.run_by == w.gov_a and not any(f["code"] == "REV-SC-RUN-STALE" for f in check.results)
    assert services.latest_check(sub) == check and not services.stale_run(sub)
    assert queries.stale_run_submissions(m(w.gov_a)) == []
    assert Notification.objects.filter(user=w.e1_staff, key=f"recalculated:{sub.pk}:{check.pk}").exists()
    event = AuditEvent.objects.filter(event_type=EventType.DATA_UPDATED, after__recalculated=True).get()
    assert event.after["official_run"] == run.pk and event.before == {"official_run": old.pk}
    refused("REV-RUN-NOT-STALE", services.recalculate, sub, actor=w.gov_a, membership=m(w.gov_a))
    # the corrected report is no longer stranded: explained warnings, and it goes in
    for f in check.results:
        if f["severity"] == "warning":
            services.acknowledge(sub, f["key"], "ok", actor=w.e1_staff, membership=m(w.e1_staff))
    assert act(sub, "submit", w.e1_staff).state == State.SUBMITTED
    assert CalculationRun.objects.filter(official=True, region=old.region, year=YEAR).count() == 1


def test_recalculation_is_skipped_when_someone_already_recalculated(reviewers):
    w = reviewers
    add_records(w.e1, [(f"{YEAR}-05", "diesel", 3.0, "t", "")])
    sub = opened(w)
    services.run_self_check(sub, actor=w.e1_staff, membership=m(w.e1_staff))
    w.run = calculate(w)  # from the accounting pages, meanwhile
    check, run = services.recalculate(sub, actor=w.gov_province, membership=m(w.gov_province))
    assert run is None and not any(f["code"] == "REV-SC-RUN-STALE" for f in check.results)


def test_return_with_item_comments_then_resubmit_as_a_new_version_with_a_diff(reviewers):
    w = reviewers
    sub = submitted(w)
    act(sub, "start_preliminary", w.gov_county)
    refused("REV-COMMENT-REQUIRED", act, sub, "return", w.gov_county)
    refused("REV-BAD-ITEM", act, sub, "return", w.gov_county, comments=[("activity:nonsense:", "what?")])
    act(
        sub,
        "return",
        w.gov_county,
        comment="Check the coal",
        comments=[("activity:raw_coal:1号窑", "The coal of March looks low."), ("total", "Total?")],
    )
    sub.refresh_from_db()
    assert sub.state == State.RETURNED
    comments = list(ReviewComment.objects.filter(submission=sub).order_by("id"))
    assert [c.item_key for c in comments] == ["activity:raw_coal:1号窑", "total"]
    assert comments[0].version.number == 1 and comments[0].stage == "preliminary"
    services.respond_to_comment(
        comments[0], "Corrected from the weighbridge ledger.", actor=w.e1_staff, membership=m(w.e1_staff)
    )
    # the enterprise corrects March, the city recalculates, the enterprise checks and resubmits
    ActivityRecord.objects.filter(enterprise=w.e1, period=f"{YEAR}-03", item="raw_coal").update(
        quantity=150.0, canonical_quantity=150.0, version=2
    )
    w.run = calculate(w)
    services.run_self_check(sub, actor=w.e1_staff, membership=m(w.e1_staff))
    act(sub, "submit", w.e1_staff, comment="Coal of March corrected")
    sub.refresh_from_db()
    assert sub.state == State.SUBMITTED and sub.current_version.number == 2
    v1, v2 = SubmissionVersion.objects.filter(submission=sub).order_by("number")
    assert v1.rows_sha256 != v2.rows_sha256 and v1.figures_sha256 != v2.figures_sha256
    changes = {d["key"]: d for d in services.diff(v1, v2)}
    assert changes["activity:raw_coal:1号窑"]["delta"] == pytest.approx(150.0 - 102.0)
    assert changes["total"]["delta"] > 0 and f"month:{YEAR}-03" in changes
    assert f"month:{YEAR}-04" not in changes


def test_withdraw_only_before_the_review_starts(reviewers):
    w = reviewers
    sub = submitted(w)
    act(sub, "withdraw", w.e1_staff)
    sub.refresh_from_db()
    assert sub.state == State.DRAFT
    act(sub, "submit", w.e1_staff)
    act(sub, "start_preliminary", w.gov_county)
    refused("REV-NOT-ALLOWED-NOW", act, sub, "withdraw", w.e1_staff)


def test_two_reviewers_at_once_one_wins_the_other_is_told(reviewers):
    w = reviewers
    sub = submitted(w)
    shown = Submission.objects.get(pk=sub.pk).version  # both pages show this revision
    act(sub, "start_preliminary", w.gov_county, expected_version=shown)
    error = refused("REV-STALE", act, sub, "start_preliminary", w.gov_a, expected_version=shown)
    with translation.override("en"):
        assert "Someone else" in error.message
    with translation.override("zh-hans"):
        assert "其他人" in error.message
    sub.refresh_from_db()
    assert sub.preliminary_reviewer == w.gov_county


@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_in_threads(world, settings, tmp_path):
    """Two threads approve the same submission with the same revision: exactly one succeeds."""
    from kiln.accounts.roles import Role
    from tests.reports.conftest import year_rows
    from tests.review.conftest import GovernmentDepartment, user_with

    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    add_records(world.e1, year_rows())
    world.run = calculate(world)
    world.gov_county = user_with(
        "gov_county_t",
        GovernmentDepartment.objects.create(kind="government", name="区", region=world.county_a),
        Role.GOV_REVIEWER,
    )
    world.gov_province = user_with(
        "gov_province_t",
        GovernmentDepartment.objects.create(kind="government", name="省", region=world.province),
        Role.GOV_REVIEWER,
    )
    sub = in_final(world)
    revision = Submission.objects.get(pk=sub.pk).version
    results = []
    barrier = threading.Barrier(2)

    def approve(user):
        # The test database is SQLite's shared-cache memory database, which reports a lock at once instead
        # of waiting like a file database (timeout=20) or PostgreSQL (row lock); retrying is that wait.
        try:
            barrier.wait(timeout=5)
            for _attempt in range(400):
                try:
                    act(Submission.objects.get(pk=sub.pk), "approve", user, expected_version=revision)
                    results.append("ok")
                    return
                except ReviewError as exc:
                    results.append(exc.code)
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.02)
            results.append("gave up")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (world.gov_province, world.gov_a)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["REV-STALE", "ok"], results
    assert Transition.objects.filter(submission=sub, action="approve").count() == 1


def test_approved_data_is_locked(reviewers, settings):
    w = reviewers
    sub = in_final(w)
    act(sub, "approve", w.gov_province)
    sub.refresh_from_db()
    refused("REV-LOCKED", services.run_self_check, sub, actor=w.e1_staff, membership=m(w.e1_staff))
    refused("REV-LOCKED", act, sub, "return", w.gov_province, comment="reopen?")
    # the intake refuses to change a locked month
    from kiln.intake import services as intake

    before = ActivityRecord.objects.filter(enterprise=w.e1).count()
    csv = (f"credit_code,period,item,quantity,unit\n{w.e1.credit_code},{YEAR}-03,raw_coal,999,t\n").encode()
    result = intake.import_activity(
        csv,
        file_name="fix.csv",
        membership=m(w.e1_staff),
        actor=w.e1_staff,
        door="upload",
        correction_reason="late fix",
    )
    assert not result.ok
    assert "INT-MONTH-FROZEN" in result.report["counts"]
    assert ActivityRecord.objects.filter(enterprise=w.e1).count() == before


def test_information_requests_hold_the_review_until_answered(reviewers):
    w = reviewers
    sub = submitted(w)
    refused(
        "REV-NOT-ALLOWED-NOW",
        services.request_information,
        sub,
        "?",
        actor=w.gov_county,
        membership=m(w.gov_county),
    )  # not in review yet
    act(sub, "start_preliminary", w.gov_county)
    refused("REV-NOT-YOUR-ROLE", services.request_information, sub, "?", actor=w.gov_b, membership=m(w.gov_b))
    item = services.request_information(
        sub, "Send the coal weighbridge ledger for March.", actor=w.gov_county, membership=m(w.gov_county)
    )
    refused("REV-INFO-OPEN", act, sub, "pass_preliminary", w.gov_county)
    services.answer_information(item, "Deposited as evidence.", actor=w.e1_staff, membership=m(w.e1_staff))
    refused(
        "REV-ALREADY-ANSWERED",
        services.answer_information,
        item,
        "again",
        actor=w.e1_staff,
        membership=m(w.e1_staff),
    )
    act(sub, "pass_preliminary", w.gov_county)


def test_reassignment(reviewers):
    w = reviewers
    sub = submitted(w)
    refused(
        "REV-NOT-YOUR-ROLE",
        services.reassign,
        sub,
        "preliminary",
        w.gov_a,
        actor=w.gov_county,
        membership=m(w.gov_county),
    )  # a county reviewer may not reassign
    refused(
        "REV-BAD-ASSIGNEE",
        services.reassign,
        sub,
        "preliminary",
        w.gov_b,
        actor=w.gov_a,
        membership=m(w.gov_a),
    )
    services.reassign(sub, "preliminary", w.gov_county, actor=w.gov_a, membership=m(w.gov_a))
    sub.refresh_from_db()
    assert "start_preliminary" not in workflow.available_transitions(sub, w.gov_a)
    refused("REV-NOT-YOUR-ROLE", act, sub, "start_preliminary", w.gov_a)
    act(sub, "start_preliminary", w.gov_county)


def test_bulk_start(reviewers):
    w = reviewers
    first = submitted(w)
    second = submitted(w, f"{YEAR}-03")
    draft = opened(w, f"{YEAR}-04")
    done, failed = services.bulk_transition(
        [first, second, draft], "start_preliminary", actor=w.gov_county, membership=m(w.gov_county)
    )
    assert done == 2 and [s.pk for s, _e in failed] == [draft.pk]


def test_everything_in_one_transaction_rolls_back(reviewers, monkeypatch):
    """A failure after the state changed (e.g. locking the months) leaves nothing behind."""
    w = reviewers
    sub = in_final(w)
    revision = Submission.objects.get(pk=sub.pk).version

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_lock_months", boom)
    with pytest.raises(RuntimeError), transaction.atomic():
        act(sub, "approve", w.gov_province)
    sub.refresh_from_db()
    assert (sub.state, sub.version) == (State.FINAL, revision)
    assert not Transition.objects.filter(submission=sub, action="approve").exists()


def test_self_check_compares_with_the_grid_meter(reviewers):
    """Metered electricity (kiln.grid) feeds the screening cross-source rules of the self-check."""
    from kiln.grid.models import MeterBatch, MeterReading

    w = reviewers
    batch = MeterBatch.objects.create(door="api", status="imported")
    reported_mwh = 1000.0 + 10 * 2  # March in year_rows
    MeterReading.objects.create(
        enterprise=w.e1, period=f"{YEAR}-03", kwh=reported_mwh * 1000 * 1.6, batch=batch
    )
    sub = opened(w)
    check = services.run_self_check(sub, actor=w.e1_staff, membership=m(w.e1_staff))
    metered = [f for f in check.results if f["code"] == "KLN-XSRC-001"]
    assert [f["period"] for f in metered] == [f"{YEAR}-03"]
    assert metered[0]["severity"] == "warning" and "MWh" in metered[0]["message_en"]
