"""Every write of the incidents app (DESIGN.md rule 2), the incident workflow and who is notified.

Workflow (DESIGN.md rule 3): ``TRANSITIONS`` below; closing needs the post-incident review
(what was not foreseen, what to improve). Response levels decide who is told:

===== ======================================== ==========================
level government levels notified (SCREEN role) channels
===== ======================================== ==========================
I     national, province, city + platform admins  in-app + e-mail
II    province, city                           in-app + e-mail
III   city                                     in-app
===== ======================================== ==========================

always including the owner. Recipients are government reviewers whose region contains the
incident's region (its ancestors) or lies inside it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiln.accounts.models import Membership
from kiln.accounts.roles import Perm, Role
from kiln.audit import services as audit
from kiln.audit.events import EventType
from kiln.incidents.models import (
    Incident,
    IncidentAction,
    IncidentFreeze,
    IncidentStep,
    Kind,
    Playbook,
    ResponseLevel,
)
from kiln.notifications.services import notify
from kiln.registry.models import Organisation, Region
from kiln.screening.models import Level
from kiln.screening.workflow import level_of_region

S = Incident.Status
TRANSITIONS: dict[str, set[str]] = {
    S.OPEN: {S.RESPONDING, S.RESOLVED},
    S.RESPONDING: {S.RESOLVED},
    S.RESOLVED: {S.RESPONDING, S.CLOSED},
    S.CLOSED: set(),
}
NOTIFY = {
    ResponseLevel.ONE: ((Level.NATIONAL, Level.PROVINCE, Level.CITY), True, True),
    ResponseLevel.TWO: ((Level.PROVINCE, Level.CITY), True, False),
    ResponseLevel.THREE: ((Level.CITY,), False, False),
}  # level → (government levels, e-mail, platform admins too)

ILLEGAL = "KLN-INC-ILLEGAL-TRANSITION"
REVIEW_MISSING = "KLN-INC-REVIEW-MISSING"
CLOSED = "KLN-INC-CLOSED"
NOT_POLICY = "KLN-INC-NOT-POLICY"
NO_BASE_RUN = "KLN-INC-NO-BASE-RUN"
MESSAGES = {
    ILLEGAL: _("An incident that is %(status)s cannot become %(target)s."),
    REVIEW_MISSING: _(
        "Write the post-incident review (what was not foreseen, what to improve) before closing."
    ),
    CLOSED: _("The incident is closed."),
    NOT_POLICY: _("Only a policy-change incident with a factor set tracks a recomputation."),
    NO_BASE_RUN: _("There is no official calculation run for this region and year to compare with."),
}


class IncidentError(Exception):
    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(code)

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code]) % {k: str(v) for k, v in self.params.items()}


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def _log(incident: Incident, kind: str, *, actor, text: str = "", data: dict | None = None) -> IncidentAction:
    return IncidentAction.objects.create(
        incident=incident, kind=kind, text=text, data=data or {}, actor=_user(actor)
    )


def _audit(incident: Incident, actor, *, before=None, after=None, created=False) -> None:
    audit.record(
        EventType.DATA_CREATED if created else EventType.DATA_UPDATED,
        actor=actor,
        target=incident,
        organisation=None,
        before=before,
        after=after,
    )


def _open_guard(incident: Incident) -> None:
    if incident.status == S.CLOSED:
        raise IncidentError(CLOSED)


@transaction.atomic
def open_incident(
    *, actor, title: str, kind: str, level: str, region: Region, owner, summary: str = "", factor_set=None
) -> Incident:
    incident = Incident.objects.create(
        title=title,
        kind=kind,
        level=level,
        region=region,
        owner=owner,
        summary=summary,
        opened_by=_user(actor),
        factor_set=factor_set,
    )
    playbook = Playbook.objects.filter(kind=kind).first()
    if playbook is not None:
        pairs = list(zip(playbook.steps_zh, playbook.steps_en, strict=False))
        IncidentStep.objects.bulk_create(
            [
                IncidentStep(incident=incident, position=i + 1, text_zh=zh[:300], text_en=en[:300])
                for i, (zh, en) in enumerate(pairs)
            ]
        )
    _log(
        incident,
        IncidentAction.Kind.OPENED,
        actor=actor,
        text=summary,
        data={"level": level, "kind": kind, "factor_set": factor_set.label if factor_set else None},
    )
    _audit(
        incident,
        actor,
        created=True,
        after={"title": title, "kind": kind, "level": level, "region": region.code},
    )
    transaction.on_commit(lambda: notify_level(incident.pk, actor=actor, reason="opened"))
    return incident


def recipients(incident: Incident) -> tuple[list, bool]:
    """Users to notify for the incident's level, and whether by e-mail too."""
    levels, email, admins = NOTIFY[incident.level]
    path = incident.region.path
    users = {incident.owner.pk: incident.owner}
    for m in Membership.objects.filter(
        active=True, user__is_active=True, organisation__kind=Organisation.Kind.GOVERNMENT
    ).select_related("user", "organisation__region"):
        region = m.organisation.region
        related = path.startswith(region.path) or region.path.startswith(path)
        if related and m.has_perm(Perm.SCREEN) and level_of_region(region) in levels:
            users[m.user.pk] = m.user
    if admins:
        for m in Membership.objects.filter(
            active=True, user__is_active=True, role=Role.PLATFORM_ADMIN
        ).select_related("user"):
            users[m.user.pk] = m.user
    return list(users.values()), email


def notify_level(incident_id: int, *, actor=None, reason: str = "opened") -> int:
    """Notify the incident's level's recipients (``reason`` tells the occasion apart: "opened" or the
    level change's timeline entry, so the same occasion never notifies a user twice)."""
    incident = Incident.objects.select_related("region", "owner").get(pk=incident_id)
    users, email = recipients(incident)
    title = f"[{incident.level}] {incident.get_kind_display()} · {incident.title}"
    notify(
        users,
        kind="incident",
        key=f"incident:{incident.pk}:{reason}",
        title=str(title),
        body=incident.summary,
        url=f"/incidents/{incident.pk}/",
        level=incident.level,
        email=email,
    )
    _log(
        incident,
        IncidentAction.Kind.NOTIFY,
        actor=actor,
        data={"users": len(users), "email": email, "level": incident.level},
    )
    return len(users)


def available_transitions(incident: Incident) -> list[str]:
    return [t for t in (S.RESPONDING, S.RESOLVED, S.CLOSED) if t in TRANSITIONS[incident.status]]


@transaction.atomic
def set_status(incident: Incident, target: str, *, actor, note: str = "") -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if target not in TRANSITIONS[incident.status]:
        raise IncidentError(
            ILLEGAL,
            status=incident.get_status_display(),
            target=S(target).label if target in S.values else target,
        )
    if target == S.CLOSED and not (incident.unforeseen.strip() and incident.improvements.strip()):
        raise IncidentError(REVIEW_MISSING)
    before = incident.status
    incident.status = target
    now = timezone.now()
    if target == S.RESOLVED:
        incident.resolved_at = now
    if target == S.CLOSED:
        incident.closed_at = now
    incident.save()
    _log(incident, IncidentAction.Kind.STATUS, actor=actor, text=note, data={"from": before, "to": target})
    _audit(incident, actor, before={"status": before}, after={"status": target})
    return incident


@transaction.atomic
def set_level(incident: Incident, level: str, *, actor, note: str = "") -> Incident:
    _open_guard(incident)
    before = incident.level
    incident.level = level
    incident.save(update_fields=["level"])
    entry = _log(
        incident, IncidentAction.Kind.LEVEL, actor=actor, text=note, data={"from": before, "to": level}
    )
    _audit(incident, actor, before={"level": before}, after={"level": level})
    if level != before:
        transaction.on_commit(lambda: notify_level(incident.pk, actor=actor, reason=f"level:{entry.pk}"))
    return incident


@transaction.atomic
def add_note(incident: Incident, text: str, *, actor) -> IncidentAction:
    _open_guard(incident)
    action = _log(incident, IncidentAction.Kind.NOTE, actor=actor, text=text)
    _audit(incident, actor, after={"note": text[:500]})
    return action


@transaction.atomic
def toggle_step(step: IncidentStep, *, actor, done: bool) -> IncidentStep:
    _open_guard(step.incident)
    step.done = done
    step.done_by = _user(actor) if done else None
    step.done_at = timezone.now() if done else None
    step.save()
    _log(
        step.incident,
        IncidentAction.Kind.STEP,
        actor=actor,
        text=step.text_zh,
        data={"position": step.position, "done": done},
    )
    return step


@transaction.atomic
def freeze(incident: Incident, enterprise, period: str, *, actor) -> IncidentFreeze:
    """Freeze an enterprise-month through intake's service (imports touching it are refused)."""
    from kiln.intake.services import freeze_month

    _open_guard(incident)
    freeze_month(enterprise, period, actor=actor, reason=f"incident #{incident.pk}: {incident.title}"[:500])
    row = IncidentFreeze.objects.create(incident=incident, enterprise=enterprise, period=period)
    _log(
        incident,
        IncidentAction.Kind.FREEZE,
        actor=actor,
        data={"enterprise": enterprise.credit_code, "period": period},
    )
    return row


@transaction.atomic
def release(row: IncidentFreeze, *, actor) -> IncidentFreeze:
    from kiln.intake.services import unfreeze_month

    unfreeze_month(
        row.enterprise, row.period, actor=actor, reason=f"incident #{row.incident_id} released"[:500]
    )
    row.released_at = timezone.now()
    row.save(update_fields=["released_at"])
    _log(
        row.incident,
        IncidentAction.Kind.RELEASE,
        actor=actor,
        data={"enterprise": row.enterprise.credit_code, "period": row.period},
    )
    return row


@transaction.atomic
def link_findings(incident: Incident, findings, *, actor) -> int:
    _open_guard(incident)
    findings = list(findings)
    incident.findings.add(*findings)
    _log(incident, IncidentAction.Kind.FINDING, actor=actor, data={"findings": [f.pk for f in findings]})
    return len(findings)


@transaction.atomic
def review(incident: Incident, *, actor, unforeseen: str, improvements: str) -> Incident:
    _open_guard(incident)
    incident.unforeseen, incident.improvements = unforeseen.strip(), improvements.strip()
    incident.reviewed_by, incident.reviewed_at = _user(actor), timezone.now()
    incident.save(update_fields=["unforeseen", "improvements", "reviewed_by", "reviewed_at"])
    _log(
        incident,
        IncidentAction.Kind.REVIEW,
        actor=actor,
        text=incident.unforeseen,
        data={"improvements": incident.improvements},
    )
    _audit(incident, actor, after={"review": True})
    return incident


def track_recomputation(incident: Incident, *, actor, year: int):
    """A policy change: compute the region's year with the new factor set (a what-if run) beside the
    official run, so the accounting compare page shows the impact."""
    from kiln.accounting import queries as accounting_queries
    from kiln.accounting import services as accounting

    _open_guard(incident)
    if incident.kind != Kind.POLICY_CHANGE or incident.factor_set is None:
        raise IncidentError(NOT_POLICY)
    base = accounting_queries.official_run(incident.region, year)
    if base is None:
        raise IncidentError(NO_BASE_RUN)
    other = accounting.calculate(
        actor=actor, region=incident.region, year=year, factor_set=incident.factor_set, kind="what_if"
    )
    with transaction.atomic():
        incident.base_run, incident.other_run = base, other
        incident.save(update_fields=["base_run", "other_run"])
        _log(
            incident,
            IncidentAction.Kind.RECOMPUTE,
            actor=actor,
            data={
                "year": year,
                "base": base.pk,
                "other": other.pk,
                "base_total": base.total_co2_t,
                "other_total": other.total_co2_t,
            },
        )
    return other
