"""Third-party verification: assignment with conflict-of-interest check, scoped access, findings, conclusion."""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import pytest
from django.utils import timezone

from kiln.intake import deposits
from kiln.ledger.models import LedgerEntry
from kiln.registry.models import ThirdPartyAgency
from kiln.registry.queries import visible_enterprises
from kiln.review import verification, workflow
from kiln.review.models import VerificationAssignment
from tests.review.conftest import YEAR, m
from tests.review.helpers import act, in_final, submitted
from tests.review.test_workflow import refused

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% signed verification report\n%%EOF\n"


def body_of(user):
    return ThirdPartyAgency.objects.get(pk=m(user).organisation_id)


def assign(w, user=None, year=YEAR, **kwargs):
    return verification.assign(
        w.e1, year, body_of(w.verifier_e1), actor=user or w.gov_a, membership=m(user or w.gov_a), **kwargs
    )


def test_assignment_gives_the_body_access_to_that_enterprise_only(reviewers):
    w = reviewers
    assert not visible_enterprises(m(w.verifier_e1)).exists()
    assignment = assign(w)
    assert list(visible_enterprises(m(w.verifier_e1))) == [w.e1]
    assert not visible_enterprises(m(w.verifier_unassigned)).exists()
    assert assignment.access_until > timezone.localdate()
    # the assignment's period ends: access ends
    VerificationAssignment.objects.filter(pk=assignment.pk).update(
        access_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert not visible_enterprises(m(w.verifier_e1)).exists()


def test_visible_enterprises_stays_one_query(reviewers, django_assert_num_queries):
    w = reviewers
    assign(w)
    membership = m(w.verifier_e1)
    with django_assert_num_queries(1):
        list(visible_enterprises(membership))


def test_conflict_of_interest_is_refused(reviewers):
    w = reviewers
    verification.engage(
        body_of(w.verifier_e1),
        w.e1,
        datetime.date(YEAR, 6, 1),
        datetime.date(YEAR, 8, 31),
        "energy audit",
        actor=w.gov_a,
        membership=m(w.gov_a),
    )
    refused("REV-CONFLICT-OF-INTEREST", assign, w)
    assert not VerificationAssignment.objects.exists()
    # an engagement in another year is no conflict for this one
    assert assign(w, year=YEAR - 2) is not None


def test_a_consultant_sees_the_enterprises_it_is_engaged_by(reviewers):
    from kiln.accounts.roles import Role
    from tests.personas import user_with

    w = reviewers
    consultancy = ThirdPartyAgency.objects.create(
        kind="third_party", name="咨询公司", region=w.province, agency_type="consultancy"
    )
    consultant = user_with("consultant", consultancy, Role.CONSULTANT)
    assert not visible_enterprises(m(consultant)).exists()
    verification.engage(
        consultancy,
        w.e1,
        timezone.localdate() - datetime.timedelta(days=10),
        None,
        "",
        actor=w.gov_a,
        membership=m(w.gov_a),
    )
    assert list(visible_enterprises(m(consultant))) == [w.e1]


def test_only_verification_bodies_and_only_by_the_region(reviewers):
    w = reviewers
    consultancy = ThirdPartyAgency.objects.create(
        kind="third_party", name="咨询", region=w.province, agency_type="consultancy"
    )
    refused(
        "REV-NOT-A-VERIFICATION-BODY",
        verification.assign,
        w.e1,
        YEAR,
        consultancy,
        actor=w.gov_a,
        membership=m(w.gov_a),
    )
    refused("REV-NOT-YOUR-ROLE", assign, w, user=w.gov_b)
    assign(w)
    refused("REV-ALREADY-ASSIGNED", assign, w)


def test_the_assigned_verifier_reviews_concludes_and_the_conclusion_feeds_the_final_review(reviewers):
    w = reviewers
    assignment = assign(w)
    sub = submitted(w)
    assert "start_preliminary" in workflow.available_transitions(sub, w.verifier_e1)
    assert workflow.available_transitions(sub, w.verifier_unassigned) == []
    act(sub, "start_preliminary", w.verifier_e1)
    act(sub, "pass_preliminary", w.verifier_e1)
    refused("REV-VERIFICATION-PENDING", act, sub, "approve", w.gov_province)
    verification.add_finding(
        assignment,
        "Coal NCV of March measured on a sample from February.",
        "observation",
        "activity:raw_coal:1号窑",
        actor=w.verifier_e1,
        membership=m(w.verifier_e1),
    )
    refused(
        "REV-NOT-YOUR-ASSIGNMENT",
        verification.add_finding,
        assignment,
        "x",
        "observation",
        actor=w.verifier_unassigned,
        membership=m(w.verifier_unassigned),
    )
    refused(
        "REV-REPORT-FILE",
        verification.conclude,
        assignment,
        "confirmed",
        "",
        "r.pdf",
        b"not a pdf",
        actor=w.verifier_e1,
        membership=m(w.verifier_e1),
    )
    done = verification.conclude(
        assignment,
        "qualified",
        "Confirmed with one observation.",
        "核查报告.pdf",
        PDF,
        verified_total_t=w.run.total_co2_t,
        actor=w.verifier_e1,
        membership=m(w.verifier_e1),
    )
    assert done.status == "concluded" and done.report_ledger_index is not None
    entry = LedgerEntry.objects.get(index=done.report_ledger_index)
    assert json.loads(entry.payload)["data"]["sha256"] == done.report_sha256
    refused(
        "REV-ASSIGNMENT-CLOSED",
        verification.add_finding,
        assignment,
        "late",
        "observation",
        actor=w.verifier_e1,
        membership=m(w.verifier_e1),
    )
    act(sub, "approve", w.gov_province)


def test_a_negative_conclusion_blocks_approval(reviewers):
    w = reviewers
    assignment = assign(w)
    sub = in_final(w)
    verification.conclude(
        assignment,
        "not_confirmed",
        "Material misstatement in coal.",
        "r.pdf",
        PDF,
        actor=w.verifier_e1,
        membership=m(w.verifier_e1),
    )
    refused("REV-VERIFICATION-FAILED", act, sub, "approve", w.gov_province)
    act(sub, "return", w.gov_province, comment="See the verification report.")


def test_proof_bundles_for_the_assigned_year(reviewers):
    w = reviewers
    assign(w)
    deposits.deposit(
        enterprise=w.e1,
        period=f"{YEAR}-03",
        kind="invoice",
        upload=PDF,
        original_name="inv.pdf",
        actor=w.e1_staff,
    )
    data = verification.proof_bundles(w.e1, YEAR, actor=w.verifier_e1)
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    assert len(manifest) == 1 and "bundle" in manifest[0]
    bundle = json.loads(archive.read(manifest[0]["bundle"]))
    assert bundle["entry"]["index"] == manifest[0]["ledger_index"] and bundle["inclusion"]["path"] is not None
    assert "verifier.py" in archive.namelist()
