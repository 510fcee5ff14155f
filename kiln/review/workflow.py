"""The review workflow as an explicit transition table (DESIGN.md rule 3).

::

    draft ──submit──▶ submitted ──start_preliminary──▶ preliminary ──pass_preliminary──▶ final ──approve──▶ approved
      ▲                  │                                   │                             │
      └────withdraw──────┘                                   └──return──▶ returned ◀──return┘
                                                                            │
                                      (resubmission: a new version) ◀─submit┘

Who may take each step is the step's *guard*: the enterprise's manager submits and withdraws;
a county or city reviewer of the enterprise's region — or the verification body assigned to the
enterprise and year — does the preliminary review (初审); a city or provincial reviewer does the
final review (终审), never the person who passed the preliminary review. ``available_transitions``
asks the guards, so the pages only show buttons that would work; the services ask them again.
"""

from __future__ import annotations

from django.utils import timezone

from kiln.accounts.models import Membership
from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.registry.models import Organisation, Region
from kiln.review import errors
from kiln.review.models import Action, State, Submission, VerificationAssignment

TRANSITIONS: dict[str, dict[str, str]] = {
    State.DRAFT: {Action.SUBMIT: State.SUBMITTED},
    State.RETURNED: {Action.SUBMIT: State.SUBMITTED},
    State.SUBMITTED: {Action.WITHDRAW: State.DRAFT, Action.START_PRELIMINARY: State.PRELIMINARY},
    State.PRELIMINARY: {Action.PASS_PRELIMINARY: State.FINAL, Action.RETURN: State.RETURNED},
    State.FINAL: {Action.APPROVE: State.APPROVED, Action.RETURN: State.RETURNED},
    State.APPROVED: {},
}
# States the enterprise may still change its data and self-check in.
EDITABLE = {State.DRAFT, State.RETURNED}
# States a reviewer is working in, and the stage each belongs to.
REVIEW_STAGE: dict[str, str] = {State.PRELIMINARY: "preliminary", State.FINAL: "final"}
PRELIMINARY_LEVELS = {Region.Level.CITY, Region.Level.COUNTY}
FINAL_LEVELS = {Region.Level.NATION, Region.Level.PROVINCE, Region.Level.CITY}
# Who redoes an out-of-date official calculation for a report being corrected.
RECALCULATE_LEVELS = {Region.Level.PROVINCE, Region.Level.CITY}


def target(state: str, action: str) -> str | None:
    return TRANSITIONS.get(state, {}).get(action)


# --- who is who ----------------------------------------------------------------------------------------


def is_platform_reviewer(membership: Membership | None) -> bool:
    return (
        membership is not None and membership.role in PLATFORM_WIDE_ROLES and membership.has_perm(Perm.REVIEW)
    )


def reviewer_level(membership: Membership | None, enterprise) -> int | None:
    """The level of government (0 nation … 3 county) a reviewer reviews ``enterprise`` at; None: not a reviewer of it."""
    if membership is None or not membership.active or not membership.has_perm(Perm.REVIEW):
        return None
    if is_platform_reviewer(membership):
        return Region.Level.NATION
    org = membership.organisation
    if org.kind != Organisation.Kind.GOVERNMENT:
        return None
    if not enterprise.region.path.startswith(org.region.path):
        return None
    return org.region.level


def is_enterprise_member(membership: Membership | None, enterprise, perm: str = Perm.SUBMIT_DATA) -> bool:
    return (
        membership is not None
        and membership.active
        and membership.organisation_id == enterprise.pk
        and membership.has_perm(perm)
    )


def live_assignment(
    membership: Membership | None, enterprise, year: int, today=None
) -> VerificationAssignment | None:
    """The verification of ``enterprise`` and ``year`` assigned to the membership's body, if within its period."""
    if membership is None or not membership.active or not membership.has_perm(Perm.VERIFY):
        return None
    today = today or timezone.localdate()
    return (
        VerificationAssignment.objects.filter(
            agency_id=membership.organisation_id, enterprise=enterprise, year=year, access_until__gte=today
        )
        .exclude(status=VerificationAssignment.Status.WITHDRAWN)
        .first()
    )


def can_preliminary(membership: Membership | None, submission: Submission) -> bool:
    if membership is None:
        return False
    level = reviewer_level(membership, submission.enterprise)
    allowed = (level in PRELIMINARY_LEVELS or is_platform_reviewer(membership)) or (
        live_assignment(membership, submission.enterprise, submission.year) is not None
    )
    if not allowed:
        return False
    assignee = submission.preliminary_reviewer_id
    return assignee is None or assignee == membership.user_id or is_platform_reviewer(membership)


def can_final(membership: Membership | None, submission: Submission) -> bool:
    if membership is None:
        return False
    level = reviewer_level(membership, submission.enterprise)
    if level is None or level not in FINAL_LEVELS:
        return False
    assignee = submission.final_reviewer_id
    return assignee is None or assignee == membership.user_id or is_platform_reviewer(membership)


def can_recalculate(membership: Membership | None, submission: Submission, run=None) -> bool:
    """A city or provincial reviewer of the enterprise holding CALCULATE, whose region contains the
    official run's region (a city never recalculates a province-wide run)."""
    if membership is None or not membership.has_perm(Perm.CALCULATE):
        return False
    if reviewer_level(membership, submission.enterprise) not in RECALCULATE_LEVELS:
        return False
    return run is None or run.region.path.startswith(membership.organisation.region.path)


# --- guards ----------------------------------------------------------------------------------------------


def guard(submission: Submission, action: str, membership: Membership | None) -> str | None:
    """None when ``membership`` may take ``action`` now; else the refusal's code."""
    if target(submission.state, action) is None:
        return errors.LOCKED if submission.state == State.APPROVED else errors.NOT_ALLOWED_NOW
    if membership is None:
        return errors.NOT_YOUR_TURN
    if action in (Action.SUBMIT, Action.WITHDRAW):
        ok = is_enterprise_member(membership, submission.enterprise, Perm.APPROVE_SUBMISSION)
        return None if ok else errors.NOT_YOUR_TURN
    if action == Action.START_PRELIMINARY or (submission.state == State.PRELIMINARY):
        return None if can_preliminary(membership, submission) else errors.NOT_YOUR_TURN
    if submission.state == State.FINAL:
        if not can_final(membership, submission):
            return errors.NOT_YOUR_TURN
        if submission.preliminary_passed_by_id == membership.user_id:
            return errors.SAME_REVIEWER
        return None
    return errors.NOT_YOUR_TURN


def available_transitions(submission: Submission, user, membership: Membership | None = None) -> list[str]:
    """The actions ``user`` (acting as ``membership``, else as any of their memberships) may take now."""
    if membership is not None:
        candidates = [membership]
    else:
        candidates = list(
            Membership.objects.filter(user=user, active=True).select_related(
                "organisation", "organisation__region"
            )
        )
    return [
        action
        for action in TRANSITIONS.get(submission.state, {})
        if any(guard(submission, action, m) is None for m in candidates)
    ]


def stage_of(submission: Submission) -> str | None:
    return REVIEW_STAGE.get(submission.state)
