"""Background report work (huey). Tasks only wrap services."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from kiln.reports import services


@db_task()
def run_report_job(job_id: int) -> int:
    """Generate every report of a ``ReportJob``; returns how many were made."""
    return services.run_job(job_id).done
