"""Every write of the reports app (DESIGN.md rule 2): report exports, template versions, report jobs."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.template import TemplateSyntaxError
from django.utils import timezone, translation

from kiln.accounting.models import Aggregate
from kiln.accounting.queries import official_run
from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.registry.models import Enterprise, Region
from kiln.reports import content, render
from kiln.reports.errors import (
    BAD_FORMAT,
    NOTHING_TO_REPORT,
    TEMPLATE_INVALID,
    TEMPLATE_TOO_LARGE,
    ReportError,
)
from kiln.reports.models import ReportFormat, ReportJob, ReportTemplate

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024


@dataclass
class Report:
    data: bytes
    file_name: str
    content_type: str
    figures_sha256: str
    run_id: int


def generate(enterprise: Enterprise, period: str, fmt: str, *, run=None) -> Report:
    """Build one report (no audit: callers that hand it to someone record the export)."""
    if fmt not in ReportFormat.values:
        raise ReportError(BAD_FORMAT)
    year, month = content.parse_period(period)
    report = content.build(enterprise, year, month, run=run)
    data = render.render(report, fmt)
    return Report(data, render.file_name(report, fmt), render.CONTENT_TYPES[fmt], report["figures_sha256"],
                  report["run"]["id"])


def export(enterprise: Enterprise, period: str, fmt: str, *, actor, request=None, run=None) -> Report:
    """A report handed to a user (download, CLI): generated, then the export is audited."""
    report = generate(enterprise, period, fmt, run=run)
    record(
        EventType.DATA_EXPORTED, actor=actor, target=enterprise, request=request,
        after={"report": period, "format": fmt, "run": report.run_id, "figures_sha256": report.figures_sha256,
               "sha256": hashlib.sha256(report.data).hexdigest()},
    )
    return report


# --- templates ------------------------------------------------------------------------------------------


def _check_docx(data: bytes) -> None:
    from docxtpl import DocxTemplate

    try:
        DocxTemplate(io.BytesIO(data)).get_undeclared_template_variables(jinja_env=render._jinja_env())
    except Exception as exc:  # not a DOCX, or Jinja syntax errors inside it
        raise ReportError(TEMPLATE_INVALID, detail=str(exc)[:300]) from exc


@transaction.atomic
def upload_template(*, actor, fmt: str, name: str, data: bytes, note: str = "", activate: bool = True) -> ReportTemplate:
    """Store a new template version (HTML for PDF, DOCX for Word); optionally make it the active one."""
    if fmt not in ReportFormat.values:
        raise ReportError(BAD_FORMAT)
    if len(data) > MAX_TEMPLATE_BYTES:
        raise ReportError(TEMPLATE_TOO_LARGE)
    fields: dict = {}
    if fmt == ReportFormat.PDF:
        try:
            source = data.decode("utf-8-sig")
            render.check_html_template(source)
        except (UnicodeDecodeError, TemplateSyntaxError) as exc:
            raise ReportError(TEMPLATE_INVALID, detail=str(exc)[:300]) from exc
        fields["html"] = source
    else:
        _check_docx(data)
        fields["docx"] = data
    latest = ReportTemplate.objects.select_for_update().filter(format=fmt).aggregate(v=Max("version"))["v"] or 0
    template = ReportTemplate.objects.create(
        format=fmt, version=latest + 1, name=name.strip()[:200] or f"v{latest + 1}", note=note,
        sha256=hashlib.sha256(data).hexdigest(), created_by=actor if getattr(actor, "pk", None) else None, **fields,
    )
    record(EventType.DATA_CREATED, actor=actor, target=template,
           after={"format": fmt, "version": template.version, "sha256": template.sha256})
    if activate:
        activate_template(template, actor=actor)
    return template


@transaction.atomic
def activate_template(template: ReportTemplate | None, *, actor, fmt: str | None = None) -> None:
    """Make ``template`` the active version of its format; ``None`` (with ``fmt``) goes back to the default."""
    fmt = template.format if template is not None else fmt
    before = ReportTemplate.objects.select_for_update().filter(format=fmt, active=True).first()
    ReportTemplate.objects.filter(format=fmt, active=True).update(active=False)
    if template is not None:
        ReportTemplate.objects.filter(pk=template.pk).update(active=True)
        template.active = True
    record(
        EventType.DATA_UPDATED, actor=actor,
        target=template or ("reports.reporttemplate", "", f"default {fmt}"),
        before={"active": before.version if before else "default"},
        after={"active": template.version if template else "default", "format": fmt},
    )


# --- jobs -------------------------------------------------------------------------------------------------


def job_dir() -> Path:
    path = Path(settings.VAR_DIR) / "reports" / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_enterprises(region: Region, year: int, enterprises=None):
    """Enterprises of ``region`` with results in the official run of ``year`` (within ``enterprises``)."""
    run = official_run(region, year)
    if run is None:
        return Enterprise.objects.none(), None
    codes = Aggregate.objects.filter(run=run, dimension=Aggregate.Dimension.ENTERPRISE, period=str(year)).values("key")
    qs = (enterprises if enterprises is not None else Enterprise.objects.all()).filter(
        region__path__startswith=region.path, credit_code__in=codes
    )
    return qs.order_by("credit_code"), run


@transaction.atomic
def start_job(*, actor, membership, region: Region, year: int, fmt: str, enterprises) -> ReportJob:
    if fmt not in ReportFormat.values:
        raise ReportError(BAD_FORMAT)
    qs, run = job_enterprises(region, year, enterprises)
    total = qs.count()
    if not total:
        raise ReportError(NOTHING_TO_REPORT)
    job = ReportJob.objects.create(region=region, year=year, format=fmt, total=total, requested_by=actor,
                                   membership=membership)
    record(EventType.DATA_EXPORTED, actor=actor, target=job,
           after={"region": region.code, "year": year, "format": fmt, "enterprises": total, "run": run.pk})

    def enqueue():
        from kiln.reports.tasks import run_report_job

        run_report_job(job.pk)

    transaction.on_commit(enqueue)
    return job


def run_job(job_id: int, *, language: str | None = None, progress_every: int = 5) -> ReportJob:
    """Generate every report of a job into one ZIP, updating the job's progress as it goes."""
    from kiln.registry.queries import visible_enterprises

    job = ReportJob.objects.select_related("region", "membership__organisation__region").get(pk=job_id)
    if job.status not in (ReportJob.Status.QUEUED, ReportJob.Status.FAILED):
        return job
    ReportJob.objects.filter(pk=job.pk).update(status=ReportJob.Status.RUNNING, started=timezone.now())
    allowed = visible_enterprises(job.membership) if job.membership is not None else None
    qs, run = job_enterprises(job.region, job.year, allowed)
    path = job_dir() / f"job-{job.pk}.zip"
    done = skipped = 0
    problems: list[dict] = []
    started = time.perf_counter()
    with translation.override(language or settings.LANGUAGE_CODE):
        try:
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
                for index, enterprise in enumerate(qs.iterator(chunk_size=200), start=1):
                    try:
                        report = generate(enterprise, str(job.year), job.format, run=run)
                        archive.writestr(report.file_name, report.data)
                        done += 1
                    except ReportError as exc:
                        skipped += 1
                        problems.append({"credit_code": enterprise.credit_code, "code": exc.code})
                    if index % progress_every == 0:
                        ReportJob.objects.filter(pk=job.pk).update(done=done, skipped=skipped)
        except Exception:
            ReportJob.objects.filter(pk=job.pk).update(status=ReportJob.Status.FAILED, done=done, skipped=skipped,
                                                       finished=timezone.now(), problems=problems[:500])
            raise
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    ReportJob.objects.filter(pk=job.pk).update(
        status=ReportJob.Status.DONE, done=done, skipped=skipped, problems=problems[:500], finished=timezone.now(),
        output_path=str(path.relative_to(settings.VAR_DIR)), output_sha256=digest,
    )
    job.refresh_from_db()
    job.elapsed = time.perf_counter() - started
    return job
