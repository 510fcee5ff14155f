"""Writing and checking the audit log.

``record()`` appends one event inside the caller's transaction: each event's ``hash`` is the
SHA-256 of its canonical JSON (sorted keys, no whitespace, UTF-8), which includes the previous
event's hash, so changing, removing or reordering any row breaks every hash after it.
``verify_chain()`` recomputes the chain. When the evidence ledger (``kiln.ledger``) is installed,
every event's hash is also appended there (kind ``audit_event``) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import ipaddress
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from kiln.audit.events import EventType
from kiln.audit.models import GENESIS_HASH, AuditEvent

# PostgreSQL: serialise appenders so two transactions never chain onto the same predecessor.
# (SQLite needs nothing: Kiln opens its write transactions IMMEDIATE, one writer at a time.)
_PG_LOCK_KEY = 0x4B494C4E_41554454 & 0x7FFFFFFFFFFFFFFF  # "KILNAUDT"

HASHED_FIELDS = (
    "time",
    "event_type",
    "actor_id",
    "actor_label",
    "organisation_id",
    "organisation_label",
    "region_code",
    "region_path",
    "target_type",
    "target_id",
    "target_label",
    "before",
    "after",
    "ip",
    "user_agent",
    "prev_hash",
)


def _jsonable(value: Any) -> Any:
    """Plain JSON values (what a JSON column gives back), so hashes survive a database round trip."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return (
            sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
            if isinstance(value, set | frozenset)
            else items
        )
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def canonical_json(value: Any) -> str:
    return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _time_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_payload(event: AuditEvent) -> dict[str, Any]:
    payload = {name: getattr(event, name) for name in HASHED_FIELDS}
    payload["time"] = _time_text(event.time)
    payload["event_type"] = int(event.event_type)
    return payload


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_json(event_payload(event)).encode("utf-8")).hexdigest()


# --- who, where, what ---------------------------------------------------------------------


def _client_ip(request) -> str | None:
    raw = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def _organisation_of_user(user) -> Any:
    from kiln.accounts.models import Membership

    membership = (
        Membership.objects.filter(user=user)
        .select_related("organisation__region")
        .order_by("-active", "id")
        .first()
    )
    return membership.organisation if membership else None


def _organisation_for(target, actor, request) -> Any:
    from kiln.accounts.models import User
    from kiln.registry.models import Organisation

    if target is not None:
        if isinstance(target, Organisation):
            return target
        org = getattr(target, "organisation", None)
        if isinstance(org, Organisation):
            return org
        if isinstance(target, User):
            org = _organisation_of_user(target)
            if org is not None:
                return org
    if request is not None and actor is not None and getattr(request, "user", None) == actor:
        from kiln.accounts.current import current_membership

        membership = current_membership(request)
        if membership is not None:
            return membership.organisation
    if actor is not None:
        return _organisation_of_user(actor)
    return None


def _target_fields(target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk), str(target)[:200]
    if isinstance(target, tuple) and len(target) == 3:
        kind, ident, label = target
        return str(kind)[:64], str(ident)[:64], str(label)[:200]
    return type(target).__name__.lower(), "", str(target)[:200]


def _is_real_user(actor) -> bool:
    return bool(
        actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None)
    )


# --- writing ----------------------------------------------------------------------------------


def record(
    event_type: EventType | int,
    *,
    actor,
    target=None,
    before: Any = None,
    after: Any = None,
    request=None,
    organisation=None,
) -> AuditEvent:
    """Append one event to the audit log, inside the caller's transaction.

    ``target`` is a model instance, or a ``(type, id, label)`` tuple for things that are not rows.
    The event's organisation (and so who may see it) is ``organisation`` if given, else the target's
    organisation, else the organisation the actor is acting for.
    """
    actor = actor if _is_real_user(actor) else None
    org = organisation if organisation is not None else _organisation_for(target, actor, request)
    target_type, target_id, target_label = _target_fields(target)
    region = getattr(org, "region", None) if org is not None else None
    event = AuditEvent(
        time=timezone.now(),
        event_type=int(event_type),
        actor=actor,
        actor_label=(actor.get_username() if actor else "")[:150],
        organisation=org,
        organisation_label=(org.name if org is not None else "")[:200],
        region_code=region.code if region is not None else "",
        region_path=region.path if region is not None else "",
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        before=_jsonable(before),
        after=_jsonable(after),
        ip=_client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event.prev_hash = last or GENESIS_HASH
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        _anchor(event)
    return event


def _anchor(event: AuditEvent) -> None:
    """Put the event's hash in the evidence ledger (same transaction)."""
    from kiln.ledger import services as ledger  # the ledger's audit trail imports this module

    ledger.append(
        "audit_event",
        str(event.pk),
        {"hash": event.hash, "prev_hash": event.prev_hash, "event_type": event.event_type},
        actor=event.actor,
    )


# --- checking ---------------------------------------------------------------------------------


@dataclass
class ChainReport:
    checked: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    last_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return not self.problems


def _anchors():
    """(event id, hash) of every audit event the evidence ledger holds, in ledger order."""
    from kiln.ledger.models import LedgerEntry  # type: ignore[import-not-found]

    rows = (
        LedgerEntry.objects.filter(kind="audit_event")
        .order_by("index")
        .values_list("reference", "payload")
        .iterator(chunk_size=2000)
    )
    for reference, payload in rows:
        yield int(reference), json.loads(payload)["data"]["hash"]


def verify_chain(*, limit_problems: int = 100, check_ledger: bool = True) -> ChainReport:
    """Recompute every event's hash, check each links to its predecessor and that each event's hash
    is the one anchored in the evidence ledger (which catches a chain rewritten from some point on,
    hashes and all)."""
    report = ChainReport()
    expected_prev = GENESIS_HASH
    anchors = _anchors() if check_ledger else iter(())
    anchor = next(anchors, None)
    anchoring_started = False
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        report.checked += 1
        if event.prev_hash != expected_prev:
            report.problems.append((event.pk, "broken link: previous event missing, reordered or altered"))
        if compute_hash(event) != event.hash:
            report.problems.append((event.pk, "hash mismatch: event altered"))
        while anchor is not None and anchor[0] < event.pk:
            report.problems.append((anchor[0], "anchored in the ledger but missing from the audit log"))
            anchor = next(anchors, None)
        if anchor is not None and anchor[0] == event.pk:
            anchoring_started = True
            if anchor[1] != event.hash:
                report.problems.append((event.pk, "hash differs from the one anchored in the ledger"))
            anchor = next(anchors, None)
        elif anchoring_started:
            report.problems.append((event.pk, "not anchored in the ledger"))
        expected_prev = event.hash
        if len(report.problems) >= limit_problems:
            break
    report.last_hash = expected_prev
    return report
