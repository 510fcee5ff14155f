"""The finding workflow as explicit transition tables (DESIGN.md rule 3).

A finding moves through the three-level review (domain.md §3.2): big-data screening raises it at
the level its rule routes to (normally the province's technical review); a reviewer there assigns
it with a deadline; the enterprise answers (a correction or an explanation, with evidence); the
reviewer verifies and closes it, sends the answer back, or escalates the finding to the next level
(province → city on-site check). Warnings may instead be acknowledged with a reason; a finding
raised in error is dismissed with a reason.

``TRANSITIONS`` lists the statuses each status may move to; ``ACTIONS`` names each move with the
statuses it starts from. ``available_transitions(finding, membership)`` is what the UI and the API
offer; ``kiln.screening.services.transition`` refuses anything else with a typed error.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.registry.models import Organisation, Region
from kiln.screening.models import LEVEL_ORDER, Finding, Level, Severity

S = Finding.Status


class Action(models.TextChoices):
    ASSIGN = "assign", _("assign")
    ANSWER = "answer", _("answer")
    VERIFY = "verify", _("verify")
    SEND_BACK = "send_back", _("send back")
    CLOSE = "close", _("close")
    ESCALATE = "escalate", _("escalate")
    ACKNOWLEDGE = "acknowledge", _("acknowledge")
    DISMISS = "dismiss", _("dismiss")
    REOPEN = "reopen", _("reopen")


TRANSITIONS: dict[str, set[str]] = {
    S.OPEN: {S.ASSIGNED, S.ANSWERED, S.ESCALATED, S.ACKNOWLEDGED, S.DISMISSED},
    S.ASSIGNED: {S.ASSIGNED, S.ANSWERED, S.ESCALATED, S.ACKNOWLEDGED, S.DISMISSED},
    S.ANSWERED: {S.VERIFIED, S.ASSIGNED, S.ESCALATED, S.ACKNOWLEDGED},
    S.VERIFIED: {S.CLOSED, S.ASSIGNED},
    S.ESCALATED: {S.ASSIGNED, S.ANSWERED, S.ESCALATED, S.DISMISSED},
    S.ACKNOWLEDGED: {S.OPEN},
    S.DISMISSED: {S.OPEN},
    S.CLOSED: set(),
}

# action → (statuses it may start from, status it leads to)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    Action.ASSIGN: (frozenset({S.OPEN, S.ASSIGNED, S.ESCALATED}), S.ASSIGNED),
    Action.ANSWER: (frozenset({S.OPEN, S.ASSIGNED, S.ESCALATED}), S.ANSWERED),
    Action.VERIFY: (frozenset({S.ANSWERED}), S.VERIFIED),
    Action.SEND_BACK: (frozenset({S.ANSWERED, S.VERIFIED}), S.ASSIGNED),
    Action.CLOSE: (frozenset({S.VERIFIED}), S.CLOSED),
    Action.ESCALATE: (frozenset({S.OPEN, S.ASSIGNED, S.ANSWERED, S.ESCALATED}), S.ESCALATED),
    Action.ACKNOWLEDGE: (frozenset({S.OPEN, S.ASSIGNED, S.ANSWERED}), S.ACKNOWLEDGED),
    Action.DISMISS: (frozenset({S.OPEN, S.ASSIGNED, S.ESCALATED}), S.DISMISSED),
    Action.REOPEN: (frozenset({S.ACKNOWLEDGED, S.DISMISSED}), S.OPEN),
}
# Every named move is one of the table's moves.
assert all(target in TRANSITIONS[source] for sources, target in ACTIONS.values() for source in sources)

REVIEWER_ACTIONS = frozenset(
    {
        Action.ASSIGN,
        Action.VERIFY,
        Action.SEND_BACK,
        Action.CLOSE,
        Action.ESCALATE,
        Action.ACKNOWLEDGE,
        Action.DISMISS,
        Action.REOPEN,
    }
)
ENTERPRISE_ACTIONS = frozenset({Action.ANSWER, Action.ACKNOWLEDGE})
NEEDS_REASON = frozenset(
    {Action.ANSWER, Action.SEND_BACK, Action.ESCALATE, Action.ACKNOWLEDGE, Action.DISMISS, Action.REOPEN}
)


def next_level(level: str) -> str | None:
    i = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[i + 1] if i + 1 < len(LEVEL_ORDER) else None


def level_of_region(region: Region) -> str:
    if region.level == Region.Level.NATION:
        return Level.NATIONAL
    if region.level == Region.Level.PROVINCE:
        return Level.PROVINCE
    return Level.CITY


def level_of(membership) -> str | None:
    """The review level a membership works at; ``None`` for platform-wide roles (every level)."""
    if membership.role in PLATFORM_WIDE_ROLES:
        return None
    return level_of_region(membership.organisation.region)


def covers(membership, finding: Finding) -> bool:
    """The membership's organisation region contains the finding's enterprise."""
    if membership.role in PLATFORM_WIDE_ROLES:
        return True
    return finding.enterprise.region.path.startswith(membership.organisation.region.path)


def is_reviewer(membership, finding: Finding) -> bool:
    if membership is None or not membership.active or not membership.has_perm(Perm.SCREEN):
        return False
    if membership.role in PLATFORM_WIDE_ROLES:
        return True
    if membership.organisation.kind != Organisation.Kind.GOVERNMENT:
        return False
    return covers(membership, finding) and level_of(membership) == finding.level


def is_enterprise(membership, finding: Finding) -> bool:
    return (
        membership is not None
        and membership.active
        and membership.organisation_id == finding.enterprise_id
        and membership.has_perm(Perm.SUBMIT_DATA)
    )


def refusal(finding: Finding, action: str, membership) -> str | None:
    """Why ``action`` is not possible now (an error code), or ``None`` when it is."""
    from kiln.screening import errors

    if action not in ACTIONS:
        return errors.ILLEGAL_TRANSITION
    sources, target = ACTIONS[action]
    if finding.status not in sources or target not in TRANSITIONS[finding.status]:
        return errors.ILLEGAL_TRANSITION
    allowed = (action in REVIEWER_ACTIONS and is_reviewer(membership, finding)) or (
        action in ENTERPRISE_ACTIONS and is_enterprise(membership, finding)
    )
    if not allowed:
        return errors.NOT_ALLOWED
    if action == Action.ACKNOWLEDGE and finding.severity != Severity.WARNING:
        return errors.WARNING_ONLY
    if action == Action.ESCALATE and next_level(finding.level) is None:
        return errors.NO_NEXT_LEVEL
    return None


def available_transitions(finding: Finding, membership) -> list[str]:
    """The actions ``membership`` may take on ``finding`` now, in a stable order."""
    return [a for a in Action.values if refusal(finding, a, membership) is None]
