"""Every write of the reports app (DESIGN.md rule 2): report exports, template versions, report jobs."""

from __future__ import annotations

import hashlib
import io
import logging
import os
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
from kiln.intake.sql_lists import values_subquery
from kiln.registry.models import Enterprise, Region
from kiln.reports import content, render
from kiln.reports.errors import (
    BAD_FORMAT,
    NOTHING_TO_REPORT,
    OUT_OF_SCOPE,
    TEMPLATE_INVALID,
    TEMPLATE_TOO_LARGE,
    ReportError,
)
from kiln.reports.models import ReportFormat, ReportJob, ReportTemplate

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
RENDER_FAILED = "REP-RENDER-FAILED"
log = logging.getLogger(__name__)


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
    return Report(
        data,
        render.file_name(report, fmt),
        render.CONTENT_TYPES[fmt],
        report["figures_sha256"],
        report["run"]["id"],
    )


def export(enterprise: Enterprise, period: str, fmt: str, *, actor, request=None, run=None) -> Report:
    """A report handed to a user (download, CLI): generated, then the export is audited."""
    report = generate(enterprise, period, fmt, run=run)
    record(
        EventType.DATA_EXPORTED,
        actor=actor,
        target=enterprise,
        request=request,
        after={
            "report": period,
            "format": fmt,
            "run": report.run_id,
            "figures_sha256": report.figures_sha256,
            "sha256": hashlib.sha256(report.data).hexdigest(),
        },
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
def upload_template(
    *, actor, fmt: str, name: str, data: bytes, note: str = "", activate: bool = True
) -> ReportTemplate:
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
    latest = (
        ReportTemplate.objects.select_for_update().filter(format=fmt).aggregate(v=Max("version"))["v"] or 0
    )
    template = ReportTemplate.objects.create(
        format=fmt,
        version=latest + 1,
        name=name.strip()[:200] or f"v{latest + 1}",
        note=note,
        sha256=hashlib.sha256(data).hexdigest(),
        created_by=actor if getattr(actor, "pk", None) else None,
        **fields,
    )
    record(
        EventType.DATA_CREATED,
        actor=actor,
        target=template,
        after={"format": fmt, "version": template.version, "sha256": template.sha256},
    )
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
        EventType.DATA_UPDATED,
        actor=actor,
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
    codes = Aggregate.objects.filter(
        run=run, dimension=Aggregate.Dimension.ENTERPRISE, period=str(year)
    ).values("key")
    qs = (enterprises if enterprises is not None else Enterprise.objects.all()).filter(
        region__path__startswith=region.path, credit_code__in=codes
    )
    return qs.order_by("credit_code"), run


def job_parts() -> int:
    """How many huey tasks share a job (``KILN_REPORT_JOB_PARTS``; default: the machine's CPUs, at most 8)."""
    configured = int(getattr(settings, "KILN_REPORT_JOB_PARTS", 0) or 0)
    return max(1, configured or min(8, os.cpu_count() or 1))


def _allowed(membership, enterprises=None):
    """``enterprises`` (default: all) narrowed to what ``membership`` may see (no membership: no narrowing)."""
    from kiln.registry.queries import visible_enterprises

    qs = enterprises if enterprises is not None else Enterprise.objects.all()
    if membership is not None:
        qs = qs.filter(pk__in=visible_enterprises(membership).values("pk"))
    return qs


@transaction.atomic
def start_job(*, actor, membership, region: Region, year: int, fmt: str, enterprises) -> ReportJob:
    """A job for ``enterprises`` (a queryset; ``None``: all) of ``region`` with results in the official run
    of ``year``, as far as ``membership`` sees them. The chosen ids are stored: the job makes exactly those."""
    if fmt not in ReportFormat.values:
        raise ReportError(BAD_FORMAT)
    qs, run = job_enterprises(region, year, _allowed(membership, enterprises))
    ids = list(qs.values_list("pk", flat=True))
    total = len(ids)
    if not total:
        raise ReportError(NOTHING_TO_REPORT)
    parts = min(job_parts(), total)
    job = ReportJob.objects.create(
        region=region,
        year=year,
        format=fmt,
        total=total,
        enterprise_ids=ids,
        parts=parts,
        requested_by=actor,
        membership=membership,
    )
    record(
        EventType.DATA_EXPORTED,
        actor=actor,
        target=job,
        after={"region": region.code, "year": year, "format": fmt, "enterprises": total, "run": run.pk},
    )
    language = translation.get_language() or settings.LANGUAGE_CODE

    def enqueue():
        from kiln.reports.tasks import run_report_job

        for part in range(parts):
            run_report_job(job.pk, part, language)

    transaction.on_commit(enqueue)
    return job


def _part_path(job: ReportJob, part: int) -> Path:
    return job_dir() / f"job-{job.pk}-part{part}.zip"


def run_job(job_id: int, part: int = 0, *, language: str | None = None, progress_every: int = 5) -> ReportJob:
    """Generate one part of a job (every ``parts``-th enterprise) into its own ZIP; the last part joins them."""
    from django.db.models import F

    job = ReportJob.objects.select_related("region", "membership__organisation__region").get(pk=job_id)
    if job.status == ReportJob.Status.DONE:
        return job
    ReportJob.objects.filter(pk=job.pk, started__isnull=True).update(started=timezone.now())
    ReportJob.objects.filter(pk=job.pk, status=ReportJob.Status.QUEUED).update(
        status=ReportJob.Status.RUNNING
    )
    # What it was started for, still within what the requester may see now (a membership change can only
    # narrow it); the ids are matched here, not in SQL, so a large job stays under the bind-parameter limits.
    qs, run = job_enterprises(job.region, job.year, _allowed(job.membership))
    chosen = set(job.enterprise_ids) if job.enterprise_ids is not None else None
    visible = [e for e in qs if chosen is None or e.pk in chosen]
    mine = visible[part :: job.parts]
    done = skipped = pending_done = pending_skipped = 0
    problems: list[dict] = []
    if chosen is not None and part == 0:
        # Chosen at the start but out of sight now: counted as skipped (by the first part), so the job
        # still adds up to its total and says why.
        gone = chosen - {e.pk for e in visible}
        for code in Enterprise.objects.filter(pk__in=values_subquery(sorted(gone), integer=True)).values_list(
            "credit_code", flat=True
        ):
            problems.append({"credit_code": code, "code": OUT_OF_SCOPE})
        skipped = pending_skipped = len(gone)

    def flush():
        nonlocal pending_done, pending_skipped
        if pending_done or pending_skipped:
            ReportJob.objects.filter(pk=job.pk).update(
                done=F("done") + pending_done, skipped=F("skipped") + pending_skipped
            )
            pending_done = pending_skipped = 0

    with translation.override(language or settings.LANGUAGE_CODE):
        try:
            with zipfile.ZipFile(_part_path(job, part), "w", compression=zipfile.ZIP_STORED) as archive:
                for index, enterprise in enumerate(mine, start=1):
                    try:
                        report = generate(enterprise, str(job.year), job.format, run=run)
                        archive.writestr(report.file_name, report.data)
                        done += 1
                        pending_done += 1
                    except ReportError as exc:
                        skipped += 1
                        pending_skipped += 1
                        problems.append({"credit_code": enterprise.credit_code, "code": exc.code})
                    except Exception:  # one enterprise's failure must not stop the other reports
                        log.exception("report job %s: %s failed", job.pk, enterprise.credit_code)
                        skipped += 1
                        pending_skipped += 1
                        problems.append({"credit_code": enterprise.credit_code, "code": RENDER_FAILED})
                    if index % progress_every == 0:
                        flush()
            flush()
        except Exception:
            flush()
            ReportJob.objects.filter(pk=job.pk).update(
                status=ReportJob.Status.FAILED, finished=timezone.now()
            )
            raise
    return _finish_part(job.pk, problems)


@transaction.atomic
def _finish_part(job_id: int, problems: list[dict]) -> ReportJob:
    job = ReportJob.objects.select_for_update().get(pk=job_id)
    job.parts_done += 1
    job.problems = (job.problems + problems)[:500]
    fields = ["parts_done", "problems"]
    if job.parts_done >= job.parts and job.status != ReportJob.Status.FAILED:
        final = job_dir() / f"job-{job.pk}.zip"
        with zipfile.ZipFile(final, "w", compression=zipfile.ZIP_STORED) as out:
            names = []
            for part in range(job.parts):
                with zipfile.ZipFile(_part_path(job, part)) as piece:
                    for info in piece.infolist():
                        names.append((info.filename, piece.read(info)))
            for name, data in sorted(names):
                out.writestr(name, data)
        for part in range(job.parts):
            _part_path(job, part).unlink(missing_ok=True)
        job.status, job.finished = ReportJob.Status.DONE, timezone.now()
        job.output_path = str(final.relative_to(settings.VAR_DIR))
        job.output_sha256 = hashlib.sha256(final.read_bytes()).hexdigest()
        fields += ["status", "finished", "output_path", "output_sha256"]
    job.save(update_fields=fields)
    return job
