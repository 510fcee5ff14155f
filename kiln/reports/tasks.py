"""Background report work (huey). Tasks only wrap services."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from kiln.reports import services


@db_task()
def run_report_job(job_id: int, part: int = 0, language: str | None = None) -> int:
    """Generate one part of a ``ReportJob`` (the last part to finish joins the ZIP); returns the job's count."""
    return services.run_job(job_id, part, language=language).done
