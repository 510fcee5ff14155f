"""``kiln calc FILE --out OUT``: compute emissions for an activity file, without the database.

Reads CSV (UTF-8, UTF-8 with BOM or GBK), XLSX or Parquet with English or Chinese headers,
computes with a shipped factor set, writes the per-row results (format by OUT's extension) and
prints totals by source category. Bad input: prints the row-level errors and exits non-zero.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from kiln.engine import factorset
from kiln.engine.aggregate import totals_by_category
from kiln.engine.emissions import compute
from kiln.engine.errors import EngineError
from kiln.engine.io import ReadError, read_activity, write_frame

RESULT_COLUMNS = [
    "row",
    "credit_code",
    "period",
    "item",
    "quantity",
    "unit",
    "source",
    "facility",
    "note",
    "year",
    "quantity_canonical",
    "unit_canonical",
    "co2_t",
    "energy_tce",
    "energy_type",
    "source_category",
    "formula",
    "tier",
    "factor_set",
]
SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = "Compute emissions for an activity file (CSV, XLSX or Parquet) without touching the database."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("file", help="activity data: .csv, .xlsx or .parquet")
        parser.add_argument("--out", required=True, help="per-row results: .csv, .xlsx or .parquet")
        parser.add_argument(
            "--factor-set",
            default=factorset.DEFAULT_FACTOR_SET,
            help=f"shipped factor set (default {factorset.DEFAULT_FACTOR_SET}; "
            f"known: {', '.join(factorset.available())})",
        )
        parser.add_argument(
            "--grid-series",
            default=None,
            help="grid-factor series, e.g. MEE_ETS_GRID/CN (default) or MEE_NBS_AVG/330000",
        )
        parser.add_argument(
            "--not-after", default=None, help="latest allowed period YYYY-MM (default: this month)"
        )
        parser.add_argument(
            "--no-credit-code-check", action="store_true", help="do not verify credit-code check characters"
        )

    def handle(self, *args, **options):
        try:
            activity = read_activity(options["file"])
        except (OSError, ReadError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from exc
        try:
            factors = factorset.load(options["factor_set"])
        except KeyError as exc:
            raise CommandError(str(exc.args[0])) from exc
        try:
            results = compute(
                activity,
                factors,
                grid_series=options["grid_series"],
                not_after=options["not_after"],
                check_credit_codes=not options["no_credit_code_check"],
            )
        except EngineError as exc:
            self._print_errors(exc)
            raise CommandError(f"{exc.errors.height} input error(s); nothing written") from exc
        try:
            write_frame(results.select([c for c in RESULT_COLUMNS if c in results.columns]), options["out"])
        except (OSError, ReadError) as exc:
            raise CommandError(f"cannot write {options['out']}: {exc}") from exc
        self._print_totals(results, options["out"])

    def _print_errors(self, exc: EngineError) -> None:
        errors = exc.errors
        self.stderr.write(f"{errors.height} error(s) in the input (row numbers count data rows from 1):")
        for e in errors.head(SHOWN_ERRORS).iter_rows(named=True):
            where = f"row {e['row'] + 1}" if e["row"] is not None else "file"
            context = " ".join(str(e[k]) for k in ("credit_code", "period", "item") if e[k])
            self.stderr.write(f"  {where}: [{e['code']}] {context}: {e['message']}")
        if errors.height > SHOWN_ERRORS:
            self.stderr.write(f"  … and {errors.height - SHOWN_ERRORS} more")

    def _print_totals(self, results, out) -> None:
        name = results.get_column("factor_set").cast(str).first() if results.height else ""
        self.stdout.write(f"{results.height} result rows written to {out} (factor set {name})")
        self.stdout.write(f"{'source category':<24}{'tCO2':>18}{'tce':>16}{'rows':>10}")
        totals = totals_by_category(results)
        for category, co2, tce, n in totals.iter_rows():
            self.stdout.write(f"{category:<24}{co2:>18,.3f}{tce:>16,.3f}{n:>10}")
        counted = totals.filter(~totals["source_category"].cast(str).is_in(["biomass", "none"]))
        biomass = totals.filter(totals["source_category"].cast(str) == "biomass")["co2_t"].sum()
        self.stdout.write(
            f"{'total (excl. biomass)':<24}{counted['co2_t'].sum():>18,.3f}"
            f"{totals['energy_tce'].sum():>16,.3f}"
        )
        self.stdout.write(f"{'biomass (reported apart)':<24}{biomass:>18,.3f}")
