"""Third-party verification (核查): assignments with a conflict-of-interest check, findings, conclusions.

The government (a reviewer of the enterprise's region) assigns a verification body to an enterprise
and year. A body engaged as the enterprise's consultant in that year, or now, may not verify it. While
the assignment lasts (``access_until``), the body's verifiers see the enterprise (``registry.queries.
visible_enterprises``), its data, evidence and ledger proofs; they record findings and a conclusion and
upload their signed report, stored content-addressed and appended to the evidence ledger. The
conclusion feeds the final review (``services._check_verification``).
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kiln.accounts.roles import Perm
from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.intake.models import EvidenceFile
from kiln.ledger import services as ledger
from kiln.ledger.errors import LedgerError
from kiln.notifications import services as notifications
from kiln.registry.models import Enterprise, ThirdPartyAgency
from kiln.review import errors, workflow
from kiln.review.errors import ReviewError
from kiln.review.models import ConsultancyEngagement, VerificationAssignment, VerificationFinding
from kiln.review.services import audit_refusal, refusals_audited

MAX_REPORT_BYTES = 50 * 1024 * 1024


def access_days() -> int:
    return int(getattr(settings, "KILN_VERIFICATION_ACCESS_DAYS", 365))


def conflicts(
    agency: ThirdPartyAgency, enterprise: Enterprise, year: int, today: datetime.date | None = None
):
    """Engagements of ``agency`` with ``enterprise`` overlapping ``year`` or running today."""
    today = today or timezone.localdate()
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    overlaps_year = Q(starts__lte=last) & (Q(ends__isnull=True) | Q(ends__gte=first))
    running_now = Q(starts__lte=today) & (Q(ends__isnull=True) | Q(ends__gte=today))
    return ConsultancyEngagement.objects.filter(agency=agency, enterprise=enterprise).filter(
        overlaps_year | running_now
    )


def _require_regional_reviewer(membership, enterprise) -> None:
    if workflow.reviewer_level(membership, enterprise) is None:
        raise ReviewError(errors.NOT_YOUR_TURN)


def assign(
    enterprise: Enterprise,
    year: int,
    agency: ThirdPartyAgency,
    *,
    actor,
    membership,
    request=None,
    access_until: datetime.date | None = None,
) -> VerificationAssignment:
    try:
        with transaction.atomic():
            _require_regional_reviewer(membership, enterprise)
            if agency.agency_type != ThirdPartyAgency.AgencyType.VERIFIER or not agency.active:
                raise ReviewError(errors.NOT_A_VERIFIER)
            if conflicts(agency, enterprise, year).exists():
                raise ReviewError(errors.COI)
            live = (
                VerificationAssignment.objects.select_for_update()
                .filter(enterprise=enterprise, year=year)
                .exclude(status=VerificationAssignment.Status.WITHDRAWN)
            )
            if live.exists():
                raise ReviewError(errors.ALREADY_ASSIGNED)
            until = access_until or timezone.localdate() + datetime.timedelta(days=access_days())
            assignment = VerificationAssignment.objects.create(
                agency=agency, enterprise=enterprise, year=year, assigned_by=actor, access_until=until
            )
            record(
                EventType.DATA_CREATED,
                actor=actor,
                target=assignment,
                organisation=enterprise,
                request=request,
                after={
                    "agency": agency.pk,
                    "enterprise": enterprise.credit_code,
                    "year": year,
                    "access_until": until,
                },
            )
            verifiers = notifications.users_with(Perm.VERIFY, agency.memberships.all())
            notifications.notify(
                verifiers,
                kind="verification",
                key=f"verification:{assignment.pk}",
                title=f"{enterprise.name} {year}",
                url="/review/verification/",
            )
            return assignment
    except ReviewError as exc:
        audit_refusal(
            exc,
            actor=actor,
            target=enterprise,
            action="assign_verifier",
            request=request,
            agency=agency.pk,
            year=year,
        )
        raise


@refusals_audited("withdraw_verification")
def withdraw(
    assignment: VerificationAssignment, reason: str, *, actor=None, request=None, membership
) -> VerificationAssignment:
    with transaction.atomic():
        current = (
            VerificationAssignment.objects.select_for_update(of=("self",))
            .select_related("enterprise__region")
            .get(pk=assignment.pk)
        )
        _require_regional_reviewer(membership, current.enterprise)
        if current.status == VerificationAssignment.Status.WITHDRAWN:
            raise ReviewError(errors.ASSIGNMENT_CLOSED)
        before = current.status
        current.status, current.withdrawn_reason = (
            VerificationAssignment.Status.WITHDRAWN,
            (reason or "")[:2000],
        )
        current.save(update_fields=["status", "withdrawn_reason"])
        record(
            EventType.DATA_UPDATED,
            actor=actor,
            target=current,
            organisation=current.enterprise,
            request=request,
            before={"status": before},
            after={"status": current.status, "reason": current.withdrawn_reason},
        )
    return current


def engage(
    agency: ThirdPartyAgency,
    enterprise: Enterprise,
    starts: datetime.date,
    ends: datetime.date | None = None,
    scope: str = "",
    *,
    actor,
    membership,
    request=None,
) -> ConsultancyEngagement:
    """Record that a third party works for an enterprise (gives a consultant access; blocks verifying it)."""
    try:
        with transaction.atomic():
            _require_regional_reviewer(membership, enterprise)
            if agency.kind != "third_party":
                raise ReviewError(errors.NOT_A_CONSULTANCY)
            engagement = ConsultancyEngagement.objects.create(
                agency=agency,
                enterprise=enterprise,
                starts=starts,
                ends=ends,
                scope=scope[:300],
                created_by=actor,
            )
            record(
                EventType.DATA_CREATED,
                actor=actor,
                target=engagement,
                organisation=enterprise,
                request=request,
                after={"agency": agency.pk, "starts": starts, "ends": ends},
            )
            return engagement
    except ReviewError as exc:
        audit_refusal(exc, actor=actor, target=enterprise, action="engage", request=request, agency=agency.pk)
        raise


def _require_own(
    assignment: VerificationAssignment, membership, *, open_only: bool = True
) -> VerificationAssignment:
    current = (
        VerificationAssignment.objects.select_for_update(of=("self",))
        .select_related("enterprise__region")
        .get(pk=assignment.pk)
    )
    if workflow.live_assignment(membership, current.enterprise, current.year) != current:
        raise ReviewError(errors.NOT_YOUR_ASSIGNMENT)
    if open_only and current.status != VerificationAssignment.Status.ASSIGNED:
        raise ReviewError(errors.ASSIGNMENT_CLOSED)
    return current


@refusals_audited("verification_finding")
def add_finding(
    assignment: VerificationAssignment,
    text: str,
    severity: str,
    item_key: str = "",
    *,
    actor=None,
    request=None,
    membership,
) -> VerificationFinding:
    with transaction.atomic():
        current = _require_own(assignment, membership)
        if not (text or "").strip():
            raise ReviewError(errors.EXPLANATION_REQUIRED)
        if severity not in VerificationFinding.Severity.values:
            raise ReviewError(errors.BAD_CONCLUSION)
        item = VerificationFinding.objects.create(
            assignment=current,
            text=text.strip()[:4000],
            severity=severity,
            item_key=item_key[:200],
            created_by=actor,
        )
        record(
            EventType.DATA_CREATED,
            actor=actor,
            target=item,
            organisation=current.enterprise,
            request=request,
            after={"assignment": current.pk, "severity": severity, "item": item_key},
        )
    return item


def _is_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-")


@refusals_audited("verification_conclusion")
def conclude(
    assignment: VerificationAssignment,
    conclusion: str,
    text: str,
    report_name: str,
    report: bytes,
    *,
    verified_total_t: float | None = None,
    actor=None,
    request=None,
    membership,
) -> VerificationAssignment:
    """Record the conclusion with the signed report (PDF), stored content-addressed and in the ledger."""
    with transaction.atomic():
        current = _require_own(assignment, membership)
        if conclusion not in VerificationAssignment.Conclusion.values:
            raise ReviewError(errors.BAD_CONCLUSION)
        if not report or len(report) > MAX_REPORT_BYTES or not _is_pdf(report):
            raise ReviewError(errors.REPORT_FILE)
        entry = ledger.deposit_evidence(
            io.BytesIO(report),
            reference=f"review.verification:{current.pk}",
            data={
                "enterprise": current.enterprise.credit_code,
                "year": current.year,
                "kind": "verification_report",
                "agency": current.agency_id,
                "conclusion": conclusion,
                "original_name": report_name[:200],
            },
            actor=actor,
        )
        current.status = VerificationAssignment.Status.CONCLUDED
        current.conclusion, current.conclusion_text = conclusion, (text or "")[:8000]
        current.verified_total_t = verified_total_t
        current.concluded_by, current.concluded_at = actor, timezone.now()
        current.report_name = Path(report_name or "verification-report.pdf").name[:255]
        current.report_sha256, current.report_path = entry.data["sha256"], entry.data["path"]
        current.report_ledger_index = entry.index
        current.save()
        record(
            EventType.DATA_SUBMITTED,
            actor=actor,
            target=current,
            organisation=current.enterprise,
            request=request,
            after={
                "conclusion": conclusion,
                "sha256": current.report_sha256,
                "ledger_index": entry.index,
                "verified_total_t": verified_total_t,
            },
        )
        from kiln.review.models import ReportType, Submission

        sub = Submission.objects.filter(
            enterprise=current.enterprise, report_type=ReportType.ANNUAL, period=str(current.year)
        ).first()
        if sub is not None:
            from kiln.review import queries

            notifications.notify(
                queries.reviewers_for(sub, "final"),
                kind="verification",
                key=f"concluded:{current.pk}",
                title=f"{current.enterprise.name} {current.year}: {current.get_conclusion_display()}",
                url=f"/review/{sub.pk}/",
            )
    return current


# --- proofs ------------------------------------------------------------------------------------------------


def proof_bundles(enterprise: Enterprise, year: int, *, actor, request=None) -> bytes:
    """A ZIP of ledger proof bundles for every evidence file of the enterprise-year (and the verifier script).

    Entries not yet covered by a signed tree head get one first (a checkpoint, as the ledger's
    ten-minute task would make).
    """
    files = list(
        EvidenceFile.objects.filter(
            enterprise=enterprise, period__startswith=f"{year}-", ledger_index__isnull=False
        ).order_by("period", "pk")
    )
    indices = [f.ledger_index for f in files if f.ledger_index is not None]
    head = ledger.latest_tree_head()
    if indices and (head is None or head.tree_size <= max(indices)):
        head = ledger.sign_tree_head()
    buffer = io.BytesIO()
    manifest = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for evidence in files:
            if evidence.ledger_index is None:
                continue
            try:
                bundle = ledger.proof_bundle(evidence.ledger_index, tree_head=head)
            except LedgerError as exc:
                manifest.append(
                    {"evidence": evidence.pk, "ledger_index": evidence.ledger_index, "error": str(exc)}
                )
                continue
            name = f"proofs/{evidence.period}-{evidence.ledger_index}.json"
            archive.writestr(name, json.dumps(bundle, ensure_ascii=False, indent=1))
            manifest.append(
                {
                    "evidence": evidence.pk,
                    "period": evidence.period,
                    "file": evidence.original_name,
                    "sha256": evidence.sha256,
                    "ledger_index": evidence.ledger_index,
                    "bundle": name,
                }
            )
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        verifier = Path(ledger.__file__).with_name("verifier.py")
        if verifier.exists():
            archive.writestr("verifier.py", verifier.read_bytes())
    record(
        EventType.DATA_EXPORTED,
        actor=actor,
        target=enterprise,
        request=request,
        after={"proof_bundles": len(manifest), "year": year, "tree_size": head.tree_size if head else None},
    )
    return buffer.getvalue()
