"""``kiln demo-data``'s supervision step: reports in every state of review, through kiln.review's services."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from kiln.demo import supervision
from kiln.demo.generate import DemoConfig, generate
from kiln.demo.samples import enterprise_persona_code
from tests.demo.conftest import ARGS


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.KILN_MFA_ENFORCE = False  # the demo's government and verifier logins, without their TOTP
    return settings.VAR_DIR


def annual_states():
    from kiln.review.models import Submission

    return Counter(Submission.objects.filter(report_type="annual").values_list("state", flat=True))


def member(username):
    from kiln.accounts.models import Membership

    return Membership.objects.select_related("user", "organisation__region").get(user__username=username)


def test_reports_are_in_every_state_of_the_workflow(demo):
    from kiln.review.models import State, Submission, Transition

    states = annual_states()
    for state in State.values:
        assert states[state] >= 1, (state, states)
    # Some enterprises have not even opened their report.
    from kiln.registry.models import Enterprise

    assert Enterprise.objects.count() > sum(states.values())
    # Everything past the draft went through submit, with a version the reviewers see.
    for sub in Submission.objects.exclude(state=State.DRAFT):
        assert sub.current_version is not None and sub.transitions.filter(action="submit").exists()
    assert not Transition.objects.filter(actor__isnull=True).exists()
    out = (demo / "stdout.txt").read_text(encoding="utf-8")
    assert "supervision" in out and "review" in out


def test_the_workflow_left_its_trail(demo):
    from kiln.audit.models import AuditEvent
    from kiln.intake.models import EnterpriseMonth
    from kiln.review.models import Acknowledgement, ReviewComment, Submission, Transition

    returned = Submission.objects.filter(state="returned")
    for sub in returned:
        back = sub.transitions.filter(action="return").get()
        assert back.comment and sub.comments.exists()  # a reason, and the data items it is about
    assert ReviewComment.objects.filter(stage="final").exists()  # one came back from the final review
    approved = Submission.objects.filter(report_type="annual", state="approved")
    for sub in approved:
        assert sub.approved_by.username == "province" and sub.preliminary_passed_by.username != "province"
        frozen = EnterpriseMonth.objects.filter(enterprise=sub.enterprise, period__startswith=f"{sub.year}-")
        assert frozen.filter(frozen=True).count() == 12  # approval locks the year's months
    assert Acknowledgement.objects.exists()  # warnings explained before submitting
    assert AuditEvent.objects.filter(target_type="review.submission").count() >= Transition.objects.count()


def test_the_verifier_has_work_in_progress_and_done(demo):
    from kiln.ledger.models import LedgerEntry
    from kiln.review import queries
    from kiln.review.models import VerificationAssignment

    verifier = member("verifier")
    mine = queries.assignments_for(verifier)
    assert mine.filter(status=VerificationAssignment.Status.ASSIGNED).exists()
    done = mine.filter(status=VerificationAssignment.Status.CONCLUDED)
    assert done.filter(conclusion="confirmed").exists() and done.filter(conclusion="qualified").exists()
    for assignment in done:
        entry = LedgerEntry.objects.get(index=assignment.report_ledger_index)
        assert entry.data["sha256"] == assignment.report_sha256  # the signed report is in the ledger
    # The verifier does the preliminary review of its own assignments.
    assert queries.visible_submissions(verifier).filter(preliminary_reviewer=verifier.user).exists()
    assert VerificationAssignment.objects.exclude(agency_id=verifier.organisation_id).count() == 0


def test_on_site_sampling_has_tasks_to_inspect(demo):
    from kiln.review import sampling
    from kiln.review.models import SampledEnterprise, SamplingDraw

    draw = SamplingDraw.objects.get()
    assert draw.region.code == "339900" and draw.drawn_by.username == "city"
    assert sampling.verify(draw)  # reproducible from what it stored
    results = Counter(draw.sampled.values_list("result", flat=True))
    assert results[SampledEnterprise.Result.PENDING] >= 1
    assert results[SampledEnterprise.Result.ISSUES] == 1


def test_each_login_sees_work_on_its_pages(demo, client):
    from kiln.review import queries, workflow
    from kiln.review.models import InformationRequest, Submission

    def pages(username, *names):
        client.force_login(member(username).user)
        out = []
        for name in names:
            response = client.get(reverse(name))
            assert response.status_code == 200, (username, name)
            out.append(response.content.decode())
        return out

    city, province = member("city"), member("province")
    (queue,) = pages("city", "review:queue")
    waiting = Submission.objects.filter(state="submitted").first()
    assert waiting.enterprise.name in queue and "start_preliminary" in workflow.available_transitions(
        waiting, city.user, city
    )
    assert InformationRequest.objects.filter(asked_by=city.user, answered_at__isnull=True).exists()
    (sampling_page,) = pages("city", "review:sampling")
    assert "339900" in sampling_page

    (queue,) = pages("province", "review:queue")
    final = [
        s
        for s in queries.queue(province, state="final")
        if "approve" in workflow.available_transitions(s, province.user, province)
    ]
    assert final and final[0].enterprise.name in queue

    (workspace, home) = pages("verifier", "review:verification", "home")
    assert all(a.enterprise.name in workspace for a in queries.assignments_for(member("verifier")))

    (reports,) = pages("enterprise", "review:submissions")
    persona = member("enterprise").organisation
    mine = Submission.objects.filter(enterprise_id=persona.pk)
    assert set(mine.values_list("state", flat=True)) == {"draft", "returned"}
    returned = mine.get(state="returned")
    assert returned.comments.exists() and "submit" in workflow.available_transitions(
        returned, member("enterprise").user, member("enterprise")
    )
    draft = mine.get(state="draft")
    assert draft.self_checks.exists()  # self-checked (with the demo's seed: months without evidence block it)

    from kiln.registry.queries import visible_enterprises

    assert visible_enterprises(member("consultant")).filter(pk=persona.pk).exists()


def test_if_empty_leaves_the_workflow_alone(demo):
    from kiln.review.models import Submission, Transition

    before = (Submission.objects.count(), Transition.objects.count())
    call_command("demo_data", *ARGS, "--out", str(demo / "again"), "--if-empty")
    assert (Submission.objects.count(), Transition.objects.count()) == before


def test_the_same_seed_puts_the_same_enterprises_in_the_same_states(db, reference_data, tmp_path):
    class Undo(Exception):
        pass

    def spread(seed):
        from kiln.review.models import Submission

        try:
            with transaction.atomic():
                call_command(
                    "demo_data", *ARGS[:4], "--seed", str(seed), "--out", str(tmp_path / str(seed)), "-v", "0"
                )
                result = sorted(Submission.objects.values_list("enterprise__credit_code", "period", "state"))
                raise Undo
        except Undo:
            return result

    first = spread(3)
    assert first == spread(3)
    assert first != spread(4)


def test_candidates_follow_the_seed():
    data = generate(DemoConfig(enterprises=60, years=(2024,), seed=5))
    clean, troubled, keys = supervision.candidates(data, 2024)
    assert supervision.candidates(generate(DemoConfig(enterprises=60, years=(2024,), seed=5)), 2024) == (
        clean,
        troubled,
        keys,
    )
    assert (
        supervision.candidates(generate(DemoConfig(enterprises=60, years=(2024,), seed=6)), 2024)[0] != clean
    )
    persona = enterprise_persona_code(data.enterprises)
    assert persona not in clean + keys + [t[0] for t in troubled]
    planted = set(data.injected_problems["credit_code"].to_list())
    assert not planted & set(clean) and {t[0] for t in troubled} <= planted
    assert all(t[3] in supervision.RETURN_REASONS for t in troubled)
