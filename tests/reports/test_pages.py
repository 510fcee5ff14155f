"""Report pages and API: downloads in scope only, admin templates, region jobs with progress."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from kiln.audit.models import AuditEvent
from kiln.reports import services
from kiln.reports.models import ReportJob
from tests.accounts.helpers import FAST_HASHERS, signed_in
from tests.reports.conftest import YEAR

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(reported, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    w = reported
    return w, {
        n: signed_in(Client(), getattr(w, n))
        for n in ("gov_a", "gov_b", "e1_staff", "e2_staff", "verifier_e1", "verifier_unassigned", "admin")
    }


def test_download_in_scope_and_404_outside(clients):
    w, c = clients
    url = reverse("reports:download", args=[w.e1.credit_code, str(YEAR), "pdf"])
    for persona in ("e1_staff", "gov_a", "admin"):
        response = c[persona].get(url)
        assert response.status_code == 200, persona
        assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
        assert "attachment" in response["Content-Disposition"]
    for persona in ("e2_staff", "gov_b", "verifier_e1", "verifier_unassigned"):
        assert c[persona].get(url).status_code == 404, persona
    assert Client().get(url).status_code == 302
    docx = c["e1_staff"].get(reverse("reports:download", args=[w.e1.credit_code, f"{YEAR}-05", "docx"]))
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert AuditEvent.objects.filter(event_type=402, target_type="registry.enterprise").count() == 4


def test_a_period_without_results_is_a_message_not_an_error(clients):
    w, c = clients
    response = c["e1_staff"].get(
        reverse("reports:download", args=[w.e1.credit_code, "2019", "pdf"]), follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("reports:index")


def test_index_lists_years_and_months(clients):
    w, c = clients
    page = c["e1_staff"].get(reverse("reports:index")).content.decode()
    assert reverse("reports:download", args=[w.e1.credit_code, f"{YEAR}-12", "pdf"]) in page
    assert w.e2.name not in page


def test_templates_page_admin_only(clients):
    w, c = clients
    assert c["admin"].get(reverse("reports:templates")).status_code == 200
    assert c["gov_a"].get(reverse("reports:templates")).status_code == 404
    default = c["admin"].get(reverse("reports:default-source", args=["docx"]))
    assert default.status_code == 200 and default.content[:2] == b"PK"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = c["admin"].post(
        reverse("reports:templates"),
        {
            "format": "pdf",
            "name": "A",
            "note": "",
            "activate": "on",
            "file": SimpleUploadedFile(
                "t.html", b"<html><body>{{ r.enterprise.name }} TEMPLATE-A</body></html>"
            ),
        },
    )
    assert response.status_code == 302
    response = c["admin"].post(
        reverse("reports:templates"),
        {
            "format": "pdf",
            "name": "bad",
            "file": SimpleUploadedFile("t.html", b"{% for %}"),
        },
    )
    assert response.status_code == 200 and "REP" not in response.content.decode()[:0]


def test_region_job_runs_in_the_background_and_shows_progress(clients, django_capture_on_commit_callbacks):
    w, c = clients
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True  # the task runs in-process when the request's transaction commits
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = c["gov_a"].post(
                reverse("reports:jobs"), {"region": w.city_a.code, "year": YEAR, "format": "docx"}
            )
    finally:
        HUEY.immediate = False
    assert response.status_code == 302
    job = ReportJob.objects.get()
    assert job.status == ReportJob.Status.DONE and (job.done, job.total) == (1, 1)
    page = c["gov_a"].get(reverse("reports:job", args=[job.pk])).content.decode()
    assert "1 / 1" in page
    partial = c["gov_a"].get(reverse("reports:job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith("<section") and "hx-get" not in partial  # done: polling stops
    archive = c["gov_a"].get(reverse("reports:job-download", args=[job.pk]))
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert names == [f"{w.e1.credit_code}-{YEAR}-emission-report.docx"]
    assert c["gov_b"].get(reverse("reports:job", args=[job.pk])).status_code == 404
    assert c["e1_staff"].get(reverse("reports:jobs")).status_code == 404


def test_a_job_covers_only_what_its_requester_sees(reported, settings):
    w = reported
    from kiln.accounts.models import Membership

    job = services.start_job(
        actor=w.gov_a,
        membership=Membership.objects.get(user=w.gov_a),
        region=w.city_a,
        year=YEAR,
        fmt="pdf",
        enterprises=None,
    )
    # requested by gov_a: E1 only (E2 is in city B, outside the run anyway)
    for part in range(job.parts):
        done = services.run_job(job.pk, part)
    assert done.status == ReportJob.Status.DONE and done.done == 1


def test_a_job_split_in_parts_joins_one_zip(reported, settings):
    from kiln.accounts.models import Membership
    from kiln.registry import credit_code
    from kiln.registry.models import Enterprise
    from tests.reports.conftest import add_records, calculate, year_rows

    w = reported
    for i in range(3):
        code = credit_code.make("9", "1", w.county_a.code, f"MA{i + 20:07d}")
        e = Enterprise.objects.create(name=f"企业{i}", credit_code=code, region=w.county_a, industry=w.cement)
        add_records(e, year_rows())
    calculate(w)
    settings.KILN_REPORT_JOB_PARTS = 3
    job = services.start_job(
        actor=w.gov_a,
        membership=Membership.objects.get(user=w.gov_a),
        region=w.city_a,
        year=YEAR,
        fmt="docx",
        enterprises=None,
    )
    assert job.parts == 3
    for part in (2, 0, 1):  # parts finish in any order
        done = services.run_job(job.pk, part)
    assert done.status == ReportJob.Status.DONE and (done.done, done.parts_done) == (4, 3)
    archive = zipfile.ZipFile(settings.VAR_DIR / done.output_path)
    assert len(archive.namelist()) == 4 and archive.namelist() == sorted(archive.namelist())
    assert not list((settings.VAR_DIR / "reports" / "jobs").glob("*part*"))


def test_api_report(clients):
    w, c = clients
    url = f"/api/v1/reports/{w.e1.credit_code}/{YEAR}"
    response = c["e1_staff"].get(url, {"format": "docx"})
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert c["e2_staff"].get(url).status_code == 404
    bad = c["e1_staff"].get(f"/api/v1/reports/{w.e1.credit_code}/2024-13")
    assert bad.status_code == 422 and bad.json()["code"] == "REP-BAD-PERIOD"


def _more_enterprises(w, n):
    from kiln.registry import credit_code
    from kiln.registry.models import Enterprise
    from tests.reports.conftest import add_records, calculate, year_rows

    made = []
    for i in range(n):
        code = credit_code.make("9", "1", w.county_a.code, f"MB{i + 40:07d}")
        e = Enterprise.objects.create(
            name=f"企业B{i}", credit_code=code, region=w.county_a, industry=w.cement
        )
        add_records(e, year_rows())
        made.append(e)
    calculate(w)
    return made


def test_a_job_generates_exactly_the_enterprises_it_was_started_for(reported, settings):
    from kiln.accounts.models import Membership
    from kiln.registry.models import Enterprise

    w = reported
    made = _more_enterprises(w, 5)
    settings.KILN_REPORT_JOB_PARTS = 2
    chosen = [made[0], made[2], made[4], w.e2]  # E2 is in city B: not part of a city A job
    job = services.start_job(
        actor=w.gov_a,
        membership=Membership.objects.get(user=w.gov_a),
        region=w.city_a,
        year=YEAR,
        fmt="docx",
        enterprises=Enterprise.objects.filter(pk__in=[e.pk for e in chosen]),
    )
    assert job.total == 3
    for part in range(job.parts):
        done = services.run_job(job.pk, part)
    assert done.status == ReportJob.Status.DONE and (done.done, done.skipped, done.total) == (3, 0, 3)
    names = zipfile.ZipFile(settings.VAR_DIR / done.output_path).namelist()
    assert names == sorted(f"{e.credit_code}-{YEAR}-emission-report.docx" for e in chosen[:3])


def test_a_job_is_narrowed_to_what_its_requester_sees_when_it_runs(reported, settings):
    from kiln.accounts.models import Membership
    from kiln.registry.models import Enterprise

    w = reported
    made = _more_enterprises(w, 2)
    membership = Membership.objects.get(user=w.gov_a)
    job = services.start_job(
        actor=w.gov_a,
        membership=membership,
        region=w.city_a,
        year=YEAR,
        fmt="pdf",
        enterprises=Enterprise.objects.filter(pk__in=[w.e1.pk, made[0].pk]),
    )
    assert job.total == 2
    # before it runs, the requester's department moves to E1's county, and one chosen enterprise out of it
    Enterprise.objects.filter(pk=made[0].pk).update(region=w.city_a)
    membership.organisation.region = w.county_a
    membership.organisation.save()
    for part in range(job.parts):
        done = services.run_job(job.pk, part)
    assert done.status == ReportJob.Status.DONE and done.done == 1
    names = zipfile.ZipFile(settings.VAR_DIR / done.output_path).namelist()
    assert names == [f"{w.e1.credit_code}-{YEAR}-emission-report.pdf"]
    # The one that went out of sight is accounted for: the job adds up to its total and says why.
    assert done.done + done.skipped == done.total
    assert done.problems == [{"credit_code": made[0].credit_code, "code": "REP-OUT-OF-SCOPE"}]


def test_a_job_counts_only_what_its_requester_sees(reported):
    from kiln.accounts.models import Membership
    from kiln.reports.errors import NOTHING_TO_REPORT, ReportError

    w = reported
    with pytest.raises(ReportError) as caught:  # gov_b (city B) sees nothing of city A
        services.start_job(
            actor=w.gov_b,
            membership=Membership.objects.get(user=w.gov_b),
            region=w.city_a,
            year=YEAR,
            fmt="pdf",
            enterprises=None,
        )
    assert caught.value.code == NOTHING_TO_REPORT and not ReportJob.objects.exists()
