"""``kiln demo-data``: generate the demo city 青溪市, write its data files and load its registry."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kiln.demo import files
from kiln.demo.generate import DemoConfig, generate

# --size presets: enterprises, years, metered electricity
PRESETS = {
    "city": (500, 3, "daily"),
    # ~10 000 enterprises x 10 years, for benchmarks: Parquet only for the two big tables.
    "national": (10_000, 10, "monthly"),
}


class Command(BaseCommand):
    help = (
        "Generate the fictional city 青溪市 (Qingxi): enterprises, facilities, monthly activity data, "
        "grid meter readings and economic data, deterministically from --seed. Writes the files and a "
        "manifest to --out and loads regions, organisations, enterprises, facilities and demo logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enterprises", type=int, help="number of enterprises (city: 500, national: 10000)"
        )
        parser.add_argument("--years", type=int, help="number of complete years (city: 3, national: 10)")
        parser.add_argument(
            "--seed", type=int, default=42, help="random seed; same seed, same bytes (default 42)"
        )
        parser.add_argument("--end-year", type=int, help="last year generated (default: last complete year)")
        parser.add_argument("--size", choices=sorted(PRESETS), default="city", help="preset (default city)")
        parser.add_argument(
            "--metered", choices=("daily", "monthly"), help="grid readings per day or per month"
        )
        parser.add_argument("--out", type=Path, help="output directory (default var/demo/)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if enterprises already exist")
        parser.add_argument(
            "--files-only", action="store_true", help="write the files, leave the database alone"
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        load_database = not options["files_only"]
        if load_database:
            from kiln.registry.models import Enterprise

            existing = Enterprise.objects.count()
            if existing and options["if_empty"]:
                self.stdout.write(f"{existing} enterprises already exist; demo data not generated.")
                return
            if existing:
                raise CommandError(
                    f"{existing} enterprises already exist: use --if-empty, --files-only "
                    "or an empty database."
                )

        enterprises, years, metered = PRESETS[options["size"]]
        last_complete = timezone.localdate().year - 1
        end_year = options["end_year"] or last_complete
        if end_year > last_complete:
            raise CommandError(f"--end-year {end_year} is not a complete year yet (last: {last_complete}).")
        try:
            config = DemoConfig.ending(
                end_year,
                options["years"] or years,
                enterprises=options["enterprises"] or enterprises,
                seed=options["seed"],
                metered=options["metered"] or metered,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        arguments = {
            "enterprises": config.enterprises,
            "years": len(config.years),
            "end_year": end_year,
            "seed": config.seed,
            "size": options["size"],
            "metered": config.metered,
        }

        data = generate(config)
        out = options["out"] or Path(settings.VAR_DIR) / "demo"
        files.write(data, out, arguments=arguments, large=options["size"] == "national")
        c = data.counts
        self.stdout.write(
            f"青溪市 {config.years[0]}–{config.years[-1]}: {c['enterprises']:,} enterprises "
            f"({c['key_emitters']:,} key emitters), {c['facilities']:,} facilities, "
            f"{c['activity_rows']:,} activity rows, {c['metered_rows']:,} metered readings, "
            f"{c['injected_problems']:,} injected problems"
        )
        self.stdout.write(f"Files: {out.resolve()} ({files.MANIFEST})")

        if load_database:
            from kiln.demo.load import DemoLoadError, load
            from kiln.demo.personas import DEMO_PASSWORD
            from kiln.registry.reference import ReferenceDataError

            try:
                loaded = load(data)
            except (DemoLoadError, ReferenceDataError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"Database: {loaded['regions']} regions, {loaded['organisations']} organisations, "
                f"{loaded['enterprises']:,} enterprises, {loaded['facilities']:,} facilities, "
                f"{loaded['users']} demo logins (password {DEMO_PASSWORD})"
            )
            from kiln.efficiency.services import load_demo_economic

            economic = load_demo_economic(out / "economic.csv")
            if not economic.ok:
                raise CommandError(f"economic.csv: {economic.errors[0].code} {economic.errors[0].message}")
            self.stdout.write(f"Economic data: {economic.created:,} enterprise-years (economic.csv)")
            from django.apps import apps

            if apps.is_installed("kiln.grid"):  # the grid company's meter readings (kiln.grid)
                from kiln.grid.services import load_demo_metered

                metered = load_demo_metered(out / "metered_electricity.csv")
                if metered is not None and not metered.ok:
                    raise CommandError(f"metered_electricity.csv: {metered.report.get('counts')}")
                if metered is not None:
                    self.stdout.write(f"Metered electricity: {metered.created:,} readings (metered_electricity.csv)")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.1f} s"))
