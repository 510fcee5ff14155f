import pytest

from kiln.factors import services as factor_services
from kiln.intake.models import ActivityRecord, ImportBatch

# E1's January and February 2024: coal, purchased electricity and heat.
ROWS = [
    ("2024-01", "raw_coal", 100.0, "t"),
    ("2024-01", "electricity_purchased", 1000.0, "MWh"),
    ("2024-02", "electricity_purchased", 500_000.0, "kWh"),
    ("2024-02", "heat_purchased", 500.0, "GJ"),
]
COAL_T = 100 * 20.908 * 0.02637 * 0.94 * 44 / 12
GRID_2024 = 0.5703  # MEE_ETS_GRID/CN from 2023 (kiln/factors/data/grid_factors.csv)
TOTAL_T = COAL_T + 1500 * GRID_2024 + 500 * 0.11


def add_records(enterprise, rows=ROWS):
    batch = ImportBatch.objects.create(door="cli", status="imported", row_count=len(rows))
    ActivityRecord.objects.bulk_create(
        ActivityRecord(
            enterprise=enterprise, period=p, item=i, quantity=q, unit=u, canonical_quantity=q, batch=batch
        )
        for p, i, q, u in rows
    )


@pytest.fixture
def factor_sets(db):
    return {s.code: s for s in factor_services.load_shipped()}


@pytest.fixture
def data(world, factor_sets):
    add_records(world.e1)
    return world
