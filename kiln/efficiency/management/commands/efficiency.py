"""``kiln efficiency --year YYYY [--region CODE] [--json] [--force]``: grade a year and print the results.

Grades every enterprise of the official accounting run of the year (the broadest one covering
``--region``), unless nothing changed since the current grading, and prints L, level, K and grade
per enterprise of ``--region`` (default: all). Exits 1 when there is no official run.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kiln.efficiency.errors import EfficiencyError
from kiln.efficiency.models import EfficiencyResult
from kiln.efficiency.services import grade_year
from kiln.registry.models import Region


def _num(value: float | None, places: int) -> str:
    return "-" if value is None else f"{value:.{places}f}"


class Command(BaseCommand):
    help = "Grade carbon efficiency (碳效码, DB33/T 1347) for a year from its official accounting run."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--region", help="GB/T 2260 code: grade from the run covering it, list only it")
        parser.add_argument("--json", action="store_true", help="print the results as JSON")
        parser.add_argument("--force", action="store_true", help="grade again even if nothing changed")

    def handle(self, *args, year: int, region: str | None, json: bool, force: bool, **options):
        area = None
        if region:
            area = Region.objects.filter(code=region).first()
            if area is None:
                raise CommandError(f"no region {region!r}")
        try:
            run = grade_year(actor=None, year=year, region=area, force=force)
        except EfficiencyError as exc:
            raise CommandError(f"{exc.code}: {exc.message}", returncode=1) from exc
        results = (
            EfficiencyResult.objects.filter(run=run, period_kind=EfficiencyResult.PeriodKind.YEAR)
            .select_related("enterprise")
            .order_by("enterprise__credit_code")
        )
        if area is not None:
            results = results.filter(enterprise__region__path__startswith=area.path)
        rows: list[dict[str, Any]] = [
            {
                "credit_code": r.enterprise.credit_code,
                "name": r.enterprise.name,
                "industry": r.industry_key,
                "period": r.period,
                "l": r.l_value,
                "level": r.level or None,
                "industry_mean_l": r.industry_mean_l,
                "k": r.k_value,
                "grade": r.grade,
                "neutral_rate_provisional": r.neutral_rate,
                "estimated": r.estimated,
                "reason": r.reason or None,
            }
            for r in results
        ]
        summary = {
            "grading": run.pk,
            "year": year,
            "region": run.region.code,
            "calculation_run": run.calculation_id,
            "config_version": run.config.version,
            "graded": run.graded,
            "not_graded": run.not_graded,
        }
        if json:
            self.stdout.write(_dumps({**summary, "results": rows}))
            return
        self.stdout.write(
            f"grading #{run.pk}: {run.region.code} {year} from accounting run #{run.calculation_id}, "
            f"configuration v{run.config.version}; {run.graded} graded, {run.not_graded} without a grade"
        )
        self.stdout.write(
            f"{'credit code':<20}{'industry':<9}{'L':>10}  {'level':<7}{'K':>8}  {'grade':<6}reason"
        )
        for row in rows:
            self.stdout.write(
                f"{row['credit_code']:<20}{row['industry']:<9}{_num(row['l'], 4):>10}  {row['level'] or '-':<7}"
                f"{_num(row['k'], 4):>8}  {row['grade'] or '-'!s:<6}{row['reason'] or ''}"
            )


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
