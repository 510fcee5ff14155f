"""The audit log: record(), hash chain, append-only triggers, verify, ledger anchoring, signals."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from kiln.audit.events import EventType, group_of
from kiln.audit.models import GENESIS_HASH, AuditEvent
from kiln.audit.services import canonical_json, compute_hash, record, verify_chain


def test_event_codes_grouped_by_hundreds():
    groups = {group_of(t) for t in EventType.values}
    assert groups == {100, 200, 300, 400, 500, 600}
    assert group_of(EventType.LOGIN) == 100 and group_of(EventType.USER_INVITED) == 200
    assert group_of(EventType.AUDIT_EXPORTED) == 400 and group_of(EventType.AUDIT_VIEWED) == 500


def test_record_fills_who_where_what(world):
    request = RequestFactory().get("/", REMOTE_ADDR="10.9.8.7", HTTP_USER_AGENT="pytest-agent")
    request.user = world.gov_a
    event = record(
        EventType.USER_UPDATED,
        actor=world.gov_a,
        target=world.e1_staff,
        before={"a": 1},
        after={"a": Decimal("2.50"), "when": world.e1.created},
        request=request,
    )
    event.refresh_from_db()
    assert event.actor_label == "gov_a" and event.ip == "10.9.8.7" and event.user_agent == "pytest-agent"
    assert event.organisation_id == world.e1.pk and event.region_code == world.county_a.code
    assert event.region_path == world.county_a.path
    assert event.target_type == "accounts.user" and event.target_id == str(world.e1_staff.pk)
    assert event.after["a"] == "2.50"


def test_chain_links_and_verifies(world):
    AuditEvent.objects.all()  # personas' creation wrote nothing yet
    first = record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    second = record(
        EventType.DATA_UPDATED, actor=world.admin, target=world.e1, before={"x": 1}, after={"x": 2}
    )
    assert second.prev_hash == first.hash
    assert AuditEvent.objects.order_by("id").first().prev_hash == GENESIS_HASH
    for event in AuditEvent.objects.all():
        assert compute_hash(event) == event.hash  # survives the database round trip
    report = verify_chain()
    assert report.ok and report.checked == AuditEvent.objects.count()


def test_canonical_json_is_stable():
    assert canonical_json({"b": 1, "a": [1, "中"]}) == '{"a":[1,"中"],"b":1}'


@pytest.mark.parametrize(
    "sql", ["UPDATE audit_auditevent SET actor_label = 'someone else'", "DELETE FROM audit_auditevent"]
)
def test_database_refuses_update_and_delete(world, sql):
    record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.filter(actor_label="admin").exists()


def test_orm_update_and_delete_refused_too(world):
    event = record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(after={"forged": True})
    with pytest.raises(DatabaseError), transaction.atomic():
        event.delete()


def _tamper(sql, params=()):
    """Simulate someone with disk access: bypass the trigger the way only a DBA could."""
    from kiln.audit.db import purge_allowed

    with purge_allowed(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="simulates disk-level tampering on SQLite")
def test_verify_detects_altered_and_removed_rows(world):
    events = [
        record(EventType.DATA_CREATED, actor=world.admin, target=world.e1, after={"n": i}) for i in range(4)
    ]
    _tamper("UPDATE audit_auditevent SET after = %s WHERE id = %s", ['{"n": 99}', events[1].pk])
    report = verify_chain()
    assert not report.ok and (events[1].pk, "hash mismatch: event altered") in report.problems
    _tamper("UPDATE audit_auditevent SET after = %s WHERE id = %s", ['{"n": 1}', events[1].pk])
    assert verify_chain().ok
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    report = verify_chain()
    assert (events[3].pk, "broken link: previous event missing, reordered or altered") in report.problems
    assert (events[2].pk, "anchored in the ledger but missing from the audit log") in report.problems
    assert {pk for pk, _ in report.problems} <= {events[2].pk, events[3].pk}


def test_verify_command(world, capsys):
    record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    call_command("audit", "verify")
    assert "audit chain OK" in capsys.readouterr().out


@pytest.mark.skipif(connection.vendor != "sqlite", reason="simulates disk-level tampering on SQLite")
def test_verify_command_fails_on_tampering(world):
    event = record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    _tamper("UPDATE audit_auditevent SET actor_label = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit", "verify")


def test_events_are_anchored_in_the_evidence_ledger(world):
    from kiln.ledger.models import LedgerEntry

    event = record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    entry = LedgerEntry.objects.filter(kind="audit_event", reference=str(event.pk)).get()
    assert event.hash in entry.payload and entry.envelope["actor"] == str(world.admin.pk)


def test_anchor_shares_the_transaction(world, monkeypatch):
    """A failure while anchoring leaves no audit row behind (and vice versa)."""
    from kiln.audit import services

    def broken(event):
        raise RuntimeError("ledger down")

    monkeypatch.setattr(services, "_anchor", broken)
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    assert AuditEvent.objects.count() == before


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="SQLite's triggers consult purge_allowed(); PostgreSQL's flush uses TRUNCATE, which row triggers "
    "do not see (test_flush_command_wipes_the_log_too covers both)",
)
def test_flush_may_empty_the_log(world):
    """``flush`` (wipe the database, used by transactional tests) is the one way to remove audit rows."""
    record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    from kiln.audit.db import purge_allowed

    with purge_allowed(), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert not AuditEvent.objects.exists()


def test_rows_outlive_their_actor(world):
    event = record(EventType.DATA_CREATED, actor=world.e2_staff, target=world.e2)
    world.e2_staff.memberships.all().delete()
    world.e2_staff.delete()  # a hard delete (never done by Kiln) still leaves the row intact
    event.refresh_from_db()
    assert event.actor_label == "e2_staff" and verify_chain().ok


def test_anonymous_actor(db):
    event = record(
        EventType.LOGIN_FAILED, actor=None, target=("accounts.user", "", "ghost"), after={"username": "ghost"}
    )
    assert event.actor_id is None and event.actor_label == "" and event.target_label == "ghost"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="simulates disk-level tampering on SQLite")
def test_ledger_catches_a_rewritten_chain(world):
    """Someone alters an event and recomputes every later hash: the chain is consistent again,
    but the hashes no longer match the ones anchored in the evidence ledger."""
    events = [
        record(EventType.DATA_CREATED, actor=world.admin, target=world.e1, after={"n": i}) for i in range(3)
    ]
    assert verify_chain().ok
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.after = {"n": 42}
    prev = forged.prev_hash
    for event in AuditEvent.objects.filter(pk__gte=forged.pk).order_by("id"):
        if event.pk == forged.pk:
            event.after = {"n": 42}
        event.prev_hash = prev
        event.hash = compute_hash(event)
        prev = event.hash
        _tamper(
            "UPDATE audit_auditevent SET after = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [
                '{"n": 42}' if event.pk == forged.pk else canonical_json(event.after),
                event.prev_hash,
                event.hash,
                event.pk,
            ],
        )
    assert verify_chain(check_ledger=False).ok  # the chain alone looks fine
    report = verify_chain()
    assert not report.ok
    assert (events[1].pk, "hash differs from the one anchored in the ledger") in report.problems


def test_ledger_check_reports_unanchored_events(world, monkeypatch):
    from kiln.audit import services

    record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    monkeypatch.setattr(services, "_anchor", lambda event: None)
    late = record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    assert (late.pk, "not anchored in the ledger") in verify_chain().problems


@pytest.mark.django_db(transaction=True)
def test_flush_command_wipes_the_log_too():
    """The transactional test runner and operators wiping a database use ``flush``: it must not fail.

    Committed rows, as in real use: PostgreSQL refuses to TRUNCATE tables with rows inserted (and
    foreign-key checks still pending) in the same transaction.
    """
    from tests.personas import build_world

    world = build_world()
    record(EventType.DATA_CREATED, actor=world.admin, target=world.e1)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_with_audit_rows_can_still_be_flushed():
    """pytest-django empties the database with ``flush`` after this test; the triggers must let it."""
    record(EventType.LOGIN_FAILED, actor=None, target=("accounts.user", "", "x"), after={"username": "x"})
    assert AuditEvent.objects.count() == 1
