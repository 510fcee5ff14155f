"""``kiln monitoring``: digests of calculation runs and region maps from the command line.

    kiln monitoring digest            # digest every official run that has none yet
    kiln monitoring digest --all      # every run, official or not
    kiln monitoring map 339900 counties.geojson
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kiln.accounting.models import CalculationRun
from kiln.monitoring import digest, geo, services
from kiln.monitoring.models import RunDigest
from kiln.registry.models import Region


class Command(BaseCommand):
    help = "Digest calculation runs for the monitoring portals, or upload a region's boundaries."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        digests = sub.add_parser("digest", help="build the digests the portals read (once per run)")
        digests.add_argument("--all", action="store_true", help="what-if runs too, not only official ones")
        maps = sub.add_parser("map", help="upload boundaries (GeoJSON) of a region's sub-regions")
        maps.add_argument("region", help="GB/T 2260 code of the region, e.g. 339900")
        maps.add_argument("file", type=Path)

    def handle(self, *args, action: str, **options):
        if action == "digest":
            runs = CalculationRun.objects.filter(status=CalculationRun.Status.DONE)
            if not options["all"]:
                runs = runs.filter(official=True)
            runs = runs.exclude(pk__in=RunDigest.objects.values("run_id")).select_related("region")
            for run in runs:
                digest.ensure(run)
                done = RunDigest.objects.get(run=run)
                self.stdout.write(f"run {run.pk} ({run.region.code} {run.year}): {done.enterprises} enterprises, "
                                  f"{done.elapsed_ms} ms")
            return
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(f"unknown region {options['region']!r}")
        try:
            region_map = services.upload_map(actor=None, region=region, data=options["file"].read_bytes(),
                                             file_name=options["file"].name)
        except geo.MapError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{region.code} {region.name}: {region_map.feature_count} areas")
