"""``kiln report CREDIT_CODE PERIOD --format pdf|docx -o FILE``: an enterprise's emission report.

PERIOD is a year (``2024``: the annual report) or a month (``2024-03``). Figures come from the official
calculation run of the enterprise's region (``--run N`` for another run). The export is audited
(acting as ``--as USER`` when given, else the platform).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from kiln.accounting.models import CalculationRun
from kiln.accounts.models import User
from kiln.registry.models import Enterprise
from kiln.reports import services
from kiln.reports.errors import ReportError


class Command(BaseCommand):
    help = "Write an enterprise's GB/T 32150 emission report (PDF or DOCX) for a year or a month."

    def add_arguments(self, parser):
        parser.add_argument("credit_code")
        parser.add_argument("period", help="YYYY (annual report) or YYYY-MM (monthly report)")
        parser.add_argument("--format", choices=["pdf", "docx"], default="pdf")
        parser.add_argument("-o", "--output", help="file to write (default: the report's own file name)")
        parser.add_argument("--language", default="zh-hans", help="zh-hans (default) or en")
        parser.add_argument("--run", type=int, help="a calculation run other than the official one")
        parser.add_argument("--as", dest="as_user", help="username the export is recorded under")

    def handle(self, *args, credit_code, period, format, output, language, run, as_user, **options):
        enterprise = (
            Enterprise.objects.filter(credit_code=credit_code).select_related("region", "industry").first()
        )
        if enterprise is None:
            raise CommandError(f"no enterprise with credit code {credit_code}")
        actor = None
        if as_user:
            actor = User.objects.filter(username=as_user).first()
            if actor is None:
                raise CommandError(f"no user {as_user}")
        chosen = None
        if run is not None:
            chosen = CalculationRun.objects.filter(pk=run).first()
            if chosen is None:
                raise CommandError(f"no calculation run {run}")
        with translation.override(language):
            try:
                made = services.export(enterprise, period, format, actor=actor, run=chosen)
            except ReportError as exc:
                raise CommandError(f"{exc.code}: {exc.message}") from exc
        path = Path(output or made.file_name)
        path.write_bytes(made.data)
        self.stdout.write(
            f"{path} ({len(made.data):,} bytes, run #{made.run_id}, figures {made.figures_sha256[:12]})"
        )
