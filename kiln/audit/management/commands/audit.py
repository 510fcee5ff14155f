"""``kiln audit verify``: recompute the audit log's hash chain. ``kiln audit alerts``: print current alerts."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from kiln.audit import alerts
from kiln.audit.models import AuditEvent
from kiln.audit.services import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain (verify) or list brute-force / mass-export alerts (alerts)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "alerts"])

    def handle(self, *args, action: str, **options):
        if action == "verify":
            report = verify_chain()
            if not report.ok:
                for pk, problem in report.problems:
                    self.stderr.write(f"event {pk}: {problem}")
                raise CommandError(
                    f"audit chain BROKEN: {len(report.problems)} problem(s) in {report.checked} events"
                )
            self.stdout.write(
                f"audit chain OK: {report.checked} events, head {report.last_hash}, matching the evidence ledger"
            )
            return
        found = alerts.detect(AuditEvent.objects.all())
        for alert in found:
            self.stdout.write(
                f"{alert.code}\t{alert.subject}\t{alert.count}\t{alert.first:%Y-%m-%d %H:%M}\t{alert.last:%Y-%m-%d %H:%M}\t{alert.title}"
            )
        if not found:
            self.stdout.write("no alerts")
