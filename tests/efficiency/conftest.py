from __future__ import annotations

import pytest

# A fixed Ed25519 seed so tokens are reproducible; never a real key.
SIGNING_SEED = "6b" * 32


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    """Private VAR_DIR (run files) and MEDIA_ROOT, a known signing key."""
    settings.KILN_LEDGER_SIGNING_KEY = SIGNING_SEED
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


def add_enterprise(world, name: str, body: str, *, region=None, industry=None):
    """Another enterprise (default: in region A's county, cement industry)."""
    from tests.personas import enterprise

    return enterprise(name, region or world.county_a, industry or world.cement, body)


def membership_of(user):
    from kiln.accounts.models import Membership

    return Membership.objects.select_related("organisation__region").get(user=user)


def make_run(
    region,
    year: int,
    yearly: dict,
    *,
    monthly: dict | None = None,
    green: dict | None = None,
    factor_set=None,
    official: bool = True,
):
    """An accounting run written directly: ``yearly`` {credit code: {column: tCO2}}, ``monthly``
    {(credit code, "YYYY-MM"): {column: tCO2}}, ``green`` {(credit code, "YYYY-MM"): MWh of
    self-generated zero-carbon power} (written to the run's per-row results file)."""
    from pathlib import Path

    import polars as pl
    from django.conf import settings

    from kiln.accounting.models import Aggregate, CalculationRun

    if official:
        CalculationRun.objects.filter(region=region, year=year, official=True).update(official=False)
    run = CalculationRun.objects.create(
        kind="official",
        status="done",
        region=region,
        year=year,
        grid_series="MEE_ETS_GRID/CN",
        engine_version="test",
        inputs_sha256=f"{year}".ljust(64, "0"),
        official=official,
    )
    if factor_set is not None:
        run.factor_sets.add(factor_set)
    objects = []
    for code, values in yearly.items():
        objects.append(Aggregate(run=run, dimension="enterprise", key=code, period=str(year), **values))
    for (code, period), values in (monthly or {}).items():
        objects.append(Aggregate(run=run, dimension="enterprise", key=code, period=period, **values))
    Aggregate.objects.bulk_create(objects)
    if green:
        directory = Path(settings.VAR_DIR) / "runs"
        directory.mkdir(parents=True, exist_ok=True)
        rows = pl.DataFrame(
            {
                "credit_code": [c for c, _ in green],
                "period": [p for _, p in green],
                "year": [int(p[:4]) for _, p in green],
                "item": ["electricity_green_self"] * len(green),
                "quantity_canonical": list(green.values()),
            },
            schema={
                "credit_code": pl.String,
                "period": pl.String,
                "year": pl.Int32,
                "item": pl.String,
                "quantity_canonical": pl.Float64,
            },
        )
        path = directory / f"run-{run.pk}.parquet"
        rows.write_parquet(path)
        run.rows_path = str(path.relative_to(settings.VAR_DIR))
        run.save(update_fields=["rows_path"])
    return run


def add_economic(enterprise, year: int, value_added, output=None):
    """A current economic record written directly (the importer has its own tests)."""
    from decimal import Decimal

    from kiln.efficiency.models import EconomicBatch, EconomicRecord

    batch = EconomicBatch.objects.create(door="cli", rows=1)
    return EconomicRecord.objects.create(
        enterprise=enterprise,
        year=year,
        value_added_10k_cny=Decimal(str(value_added)),
        output_value_10k_cny=None if output is None else Decimal(str(output)),
        batch=batch,
    )


@pytest.fixture
def factor_sets(db):
    from kiln.factors import services

    return {s.code: s for s in services.load_shipped()}


@pytest.fixture
def graded(world):
    """Region A graded for 2023 and 2024 from hand-made runs.

    Industry C30 (weighted mean) in 2024: E1 L = 80/100 = 0.8, E3 L = 120/100 = 1.2 → mean 1.0,
    so K(E1) = 0.8 (grade 2) and K(E3) = 1.2 (grade 3). E4 has energy but no value added.
    2023: E1 L = 0.5, E3 L = 1.5 (mean 1.0): K 0.5 (grade 1) and 1.5 (grade 4).
    """
    from kiln.efficiency.services import grade_year

    e3 = add_enterprise(world, "E3 建材有限公司", "MA0000003")
    e4 = add_enterprise(world, "E4 =HYPERLINK(1) 有限公司", "MA0000004")
    world.e3, world.e4 = e3, e4
    make_run(
        world.city_a,
        2023,
        {e.credit_code: {"co2_combustion_t": co2} for e, co2 in ((world.e1, 50.0), (e3, 150.0))},
    )
    make_run(
        world.city_a,
        2024,
        {
            world.e1.credit_code: {"co2_combustion_t": 80.0},
            e3.credit_code: {"co2_combustion_t": 120.0},
            e4.credit_code: {"co2_combustion_t": 10.0},
        },
    )
    for e in (world.e1, e3):
        add_economic(e, 2023, 100)
        add_economic(e, 2024, 100)
    world.run_2023 = grade_year(actor=None, year=2023)
    world.run_2024 = grade_year(actor=None, year=2024)
    return world
