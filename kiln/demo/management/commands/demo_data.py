"""``kiln demo-data``: generate the demo city 青溪市, write its data files and load its registry."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from kiln.demo import files, samples
from kiln.demo.generate import DemoConfig, generate
from kiln.demo.load import DemoLoadError
from kiln.demo.steps import StepError
from kiln.registry.reference import ReferenceDataError

# --size presets: enterprises, years, metered electricity
PRESETS = {
    "city": (500, 3, "daily"),
    # ~10 000 enterprises x 10 years, for benchmarks: Parquet only for the two big tables.
    "national": (10_000, 10, "monthly"),
}


class Command(BaseCommand):
    help = (
        "Generate the fictional city 青溪市 (Qingxi): enterprises, facilities, monthly activity data, "
        "grid meter readings and economic data, deterministically from --seed. Writes the files, sample "
        "files to try the upload page with, and a manifest to --out. Unless --files-only, loads the registry "
        "and demo logins, then runs the platform's own services: factor sets, the activity import, evidence "
        "deposits, metered electricity, official calculations, carbon-efficiency grades and screening."
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

        quiet = options["verbosity"] == 0
        timer = _Timer(self.stdout, quiet=quiet)
        out = options["out"] or Path(settings.VAR_DIR) / "demo"
        with timer("generate") as step:
            data = generate(config)
            data, sample_files = samples.separate(data)
            c = data.counts
            step.summary = (
                f"青溪市 {config.years[0]}–{config.years[-1]}: {c['enterprises']:,} enterprises "
                f"({c['key_emitters']:,} key emitters), {c['facilities']:,} facilities, "
                f"{c['activity_rows']:,} activity rows, {c['metered_rows']:,} metered readings, "
                f"{c['injected_problems']:,} injected problems"
            )
        with timer("write files") as step:
            files.write(
                data, out, arguments=arguments, large=options["size"] == "national", samples=sample_files
            )
            step.summary = (
                f"{out.resolve()} ({files.MANIFEST}; files to try the upload page with in {files.SAMPLES}/)"
            )
        if load_database:
            try:
                with (
                    transaction.atomic()
                ):  # all or nothing: a failed run leaves an empty database to try again
                    self._load(data, out, timer, large=options["size"] == "national")
            except (StepError, DemoLoadError, ReferenceDataError) as exc:
                raise CommandError(f"{exc} (nothing was stored)") from exc
            if not quiet:
                self._welcome(out, None if options["size"] == "national" else config.years[-1])
        if not quiet:
            self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.1f} s"))

    def _load(self, data, out: Path, timer: _Timer, large: bool) -> None:
        from kiln.demo import steps
        from kiln.demo.load import load
        from kiln.demo.personas import DEMO_PASSWORD
        from kiln.efficiency.services import load_demo_economic

        years, city = data.config.years, "339900"
        with timer("registry") as step:
            loaded = load(data)
            step.summary = (
                f"{loaded['regions']} regions, {loaded['organisations']} organisations, "
                f"{loaded['enterprises']:,} enterprises, {loaded['facilities']:,} facilities, "
                f"{loaded['users']} demo logins (password {DEMO_PASSWORD})"
            )
        with timer("economic data") as step:
            economic = load_demo_economic(out / "economic.csv")
            if not economic.ok:
                raise StepError(f"economic.csv: {economic.errors[0].code} {economic.errors[0].message}")
            step.summary = f"{economic.created:,} enterprise-years (economic.csv)"
        if large:
            timer.say(
                "  National preset: activity and meter data stay in the Parquet files (for benchmarks); "
                "factor sets, imports, evidence, calculations, grades and screening were skipped."
            )
            return
        for name, run in (
            ("factor sets", steps.factors),
            ("activity data", lambda: steps.activity(out / "activity.csv")),
            ("evidence deposits", lambda: steps.evidence_deposits(data)),
            ("metered electricity", lambda: steps.metered(out / "metered_electricity.csv")),
            ("official calculations", lambda: steps.calculations(years, city, data.injected_problems)),
            ("carbon efficiency", lambda: steps.efficiency(years, city)),
            ("screening", lambda: steps.screening(years, city)),
            ("supervision", lambda: steps.supervision(data)),
            ("evidence ledger", steps.sign_ledger),
        ):
            with timer(name) as step:
                outcome = run()
                step.summary, step.details = outcome.summary, outcome.details

    def _welcome(self, out: Path, year: int | None = None) -> None:
        from kiln.demo.personas import login_table

        w = self.stdout.write
        w("")
        for line in login_table():
            w(line)
        w(
            "Try enterprise or reporter (数据采集: upload, 月度存证), city (监测, 筛查, 碳效码, 逾期未存证) and admin. "
            "The planted data problems are in the official totals until corrected: 筛查 (screening) lists them."
        )
        if year is not None:
            w(
                f"Annual reports {year} in review (审核): city (初审 queue, 核查 assignments, 现场抽查), "
                "province (终审 queue), verifier (核查工作台), enterprise (annual report self-checked, not yet "
                "submitted; a monthly report returned for correction)."
            )
        w(
            f"Files to try the upload and deposit pages with: {(out / files.SAMPLES).resolve()} (README.md there)"
        )


class _Step:
    def __init__(self, name: str):
        self.name, self.summary = name, ""
        self.details: list[str] = []


class _Timer:
    """Times each step and prints ``name  seconds  summary`` as it finishes."""

    def __init__(self, stdout, quiet: bool = False):
        self.stdout, self.quiet = stdout, quiet

    def say(self, text: str) -> None:
        if not self.quiet:
            self.stdout.write(text)

    @contextmanager
    def __call__(self, name: str):
        step = _Step(name)
        started = time.perf_counter()
        yield step
        if (step.summary or step.details) and not self.quiet:
            self.stdout.write(f"  {name:<22} {time.perf_counter() - started:6.1f} s  {step.summary}")
            for line in step.details:
                self.stdout.write(f"  {'':<22} {'':>8}  {line}")
