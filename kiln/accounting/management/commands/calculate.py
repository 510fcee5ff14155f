"""``kiln calculate --region CODE --year YYYY``: a calculation run from the stored data."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from kiln.accounting import services
from kiln.accounting.models import CalculationRun
from kiln.factors.management.commands.factors import _find
from kiln.factors.models import FactorSet
from kiln.registry.models import Region


class Command(BaseCommand):
    help = "Compute emissions of every enterprise of a region for a year from the stored activity data."

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True, help="GB/T 2260 code, e.g. 339900")
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--factor-set", default="", help="CODE or CODE@vN (default: CN-DEFAULT-2024, latest)"
        )
        parser.add_argument("--grid-series", default=None)
        parser.add_argument(
            "--what-if", action="store_true", help="a comparison run, not the official result"
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, region, year, factor_set, grid_series, what_if, json: bool, **options):
        place = Region.objects.filter(code=region).first()
        if place is None:
            raise CommandError(f"unknown region {region!r}")
        if not FactorSet.objects.exists():
            raise CommandError("no factor sets stored: run 'kiln factors load' first")
        chosen = _find(factor_set or "CN-DEFAULT-2024")
        kind = CalculationRun.Kind.WHAT_IF if what_if else CalculationRun.Kind.OFFICIAL
        try:
            run = services.calculate(
                actor=None, region=place, year=year, factor_set=chosen, grid_series=grid_series, kind=kind
            )
        except services.RunError as exc:
            lines = [f"{exc.code}: {exc.message}"] + [
                f"  row {e.get('row')}: {e.get('credit_code')} {e.get('period')} {e.get('item')} {e.get('code')}: "
                f"{e.get('message')}"
                for e in exc.errors[:50]
            ]
            raise CommandError("\n".join(lines)) from exc
        summary = {
            "run": run.pk,
            "region": place.code,
            "year": year,
            "kind": run.kind,
            "official": run.official,
            "factor_set": chosen.label,
            "grid_series": run.grid_series,
            "input_rows": run.input_rows,
            "total_co2_t": round(run.total_co2_t, 3),
            "total_tce": round(run.total_tce, 3),
            "elapsed_ms": run.elapsed_ms,
        }
        if json:
            self.stdout.write(_dumps(summary))
        else:
            for key, value in summary.items():
                self.stdout.write(f"{key:<12} {value}")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
