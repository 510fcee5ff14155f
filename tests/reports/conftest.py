"""E1 with a full year 2024 of data (coal with measured NCV, electricity, heat, clinker), an official
run over city A, and evidence for a few months. Shared by tests/reports and tests/review."""

from __future__ import annotations

import pytest

from kiln.accounting import services as accounting
from kiln.factors import services as factor_services
from kiln.intake.models import ActivityRecord, ImportBatch

YEAR = 2024
MONTHS = [f"{YEAR}-{m:02d}" for m in range(1, 13)]


def year_rows(months=MONTHS, coal=100.0):
    rows = []
    for i, period in enumerate(months):
        rows += [
            (period, "raw_coal", coal + i, "t", "1号窑"),
            (period, "raw_coal.ncv", 21.5, "GJ/t", "1号窑"),
            (period, "electricity_purchased", 1000.0 + 10 * i, "MWh", ""),
            (period, "heat_purchased", 500.0, "GJ", ""),
            (period, "clinker_output", 5000.0, "t", "1号窑"),
            (period, "clinker_output.cao", 0.65, "fraction", "1号窑"),
            (period, "clinker_output.mgo", 0.02, "fraction", "1号窑"),
        ]
    return rows


def add_records(enterprise, rows):
    batch = ImportBatch.objects.create(door="cli", status="imported", row_count=len(rows))
    ActivityRecord.objects.bulk_create(
        ActivityRecord(
            enterprise=enterprise,
            period=p,
            item=i,
            quantity=q,
            unit=u,
            canonical_quantity=q,
            batch=batch,
            facility=f,
            source="meter",
        )
        for p, i, q, u, f in rows
    )


def calculate(world, actor=None):
    from kiln.factors.models import FactorSet

    if not FactorSet.objects.filter(code="CN-DEFAULT-2024").exists():
        factor_services.load_shipped()
    factor_set = FactorSet.objects.filter(code="CN-DEFAULT-2024").order_by("-version").first()
    return accounting.calculate(
        actor=actor or world.gov_a, region=world.city_a, year=YEAR, factor_set=factor_set
    )


@pytest.fixture
def reported(world, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    add_records(world.e1, year_rows())
    world.run = calculate(world)
    return world
