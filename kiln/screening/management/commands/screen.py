"""``kiln screen [--period YYYY-MM | --year YYYY] [--region CODE] [--json]``: run the screening now."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from kiln.registry.models import Region
from kiln.screening import services
from kiln.screening.errors import ScreeningError
from kiln.screening.models import Finding, ScreeningRun


class Command(BaseCommand):
    help = "Screen reported data with the current rules and store the findings (default: the last complete month)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--period", help="one month, YYYY-MM")
        group.add_argument("--year", type=int, help="a whole year, YYYY")
        parser.add_argument("--region", help="GB/T 2260 code of the region (default: everything)")
        parser.add_argument("--json", action="store_true", help="print the run as JSON")

    def handle(self, *args, period, year, region, json: bool, **options):
        try:
            first, last = (
                services.periods_for(period=period, year=year)
                if (period or year)
                else services.last_months(1)
            )
        except ScreeningError as exc:
            raise CommandError(exc.message) from exc
        area = None
        if region:
            area = Region.objects.filter(code=region).first()
            if area is None:
                raise CommandError(f"no region {region!r}")
        run = services.run_screening(
            actor=None, trigger=ScreeningRun.Trigger.CLI, first=first, last=last, region=area
        )
        counts: dict[str, int] = {}
        for rule_id in Finding.objects.filter(last_run=run).values_list("rule_id", flat=True):
            counts[rule_id] = counts.get(rule_id, 0) + 1
        summary = {
            "run": run.pk,
            "first": first,
            "last": last,
            "region": region or "",
            "input_rows": run.input_rows,
            "enterprises": run.enterprises,
            "findings": run.findings_total,
            "new": run.findings_new,
            "by_rule": dict(sorted(counts.items())),
            "skipped": run.skipped,
            "timings_s": run.timings,
            "elapsed_ms": run.elapsed_ms,
        }
        if json:
            self.stdout.write(_dumps(summary))
            return
        self.stdout.write(
            f"Screening run #{run.pk} {first}..{last}: {run.input_rows:,} rows, {run.enterprises:,} "
            f"enterprises, {run.findings_total:,} findings ({run.findings_new:,} new) in "
            f"{run.elapsed_ms} ms"
        )
        for rule_id, n in sorted(counts.items()):
            self.stdout.write(f"  {rule_id:20s} {n:>7,}")
        for rule_id, reason in run.skipped:
            self.stdout.write(f"  skipped {rule_id}: {reason}")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
