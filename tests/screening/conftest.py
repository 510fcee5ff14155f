"""Screening fixtures: the personas with reported data for E1 and E2, the grid meter, and signed-in clients."""

from __future__ import annotations

import datetime

import polars as pl
import pytest

from tests.screening.crafted import months

FIRST = "2024-01"
N_MONTHS = 18  # 2024-01 … 2025-06
SPIKE = "2025-03"  # E1's natural gas ×4 that month


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def activity_rows(code: str, *, spike: bool = False, under_report: str | None = None) -> list[dict]:
    rows = []
    for i, period in enumerate(months(FIRST, N_MONTHS)):
        wobble = 1 + 0.02 * ((i * 7) % 3 - 1)
        gas = 100.0 * wobble * (4.0 if spike and period == SPIKE else 1.0)
        power = 500.0 * wobble * (0.6 if period == under_report else 1.0)
        rows += [
            {
                "credit_code": code,
                "period": period,
                "item": "natural_gas",
                "quantity": f"{gas:.3f}",
                "unit": "1e4Nm3",
            },
            {
                "credit_code": code,
                "period": period,
                "item": "electricity_purchased",
                "quantity": f"{power:.3f}",
                "unit": "MWh",
            },
            {
                "credit_code": code,
                "period": period,
                "item": "cement_output",
                "quantity": f"{1000 * wobble:.1f}",
                "unit": "t",
            },
        ]
    return rows


def metered_rows(code: str) -> list[dict]:
    return [
        {"credit_code": code, "period": p, "kwh": 500_000 * (1 + 0.02 * ((i * 7) % 3 - 1))}
        for i, p in enumerate(months(FIRST, N_MONTHS))
    ]


def import_rows(rows: list[dict]):
    from kiln.intake.services import import_activity

    result = import_activity(pl.DataFrame(rows), actor=None, membership=None, door="cli")
    assert result.ok, result.report
    return result


@pytest.fixture
def reported(world):
    """E1 with a gas spike in 2025-03 and electricity 40 % under the meter in 2025-02; E2 clean."""
    from kiln.grid.services import import_readings

    import_rows(activity_rows(world.e1.credit_code, spike=True, under_report="2025-02"))
    import_rows(activity_rows(world.e2.credit_code))
    result = import_readings(
        metered_rows(world.e1.credit_code) + metered_rows(world.e2.credit_code),
        actor=None,
        membership=None,
        door="cli",
    )
    assert result.ok, result.report
    return world


@pytest.fixture
def screened(reported):
    from kiln.screening import services

    run = services.run_screening(
        actor=None, trigger="cli", first="2025-01", last="2025-06", today=datetime.date(2026, 1, 15)
    )
    return reported, run


@pytest.fixture
def signed(client):
    from tests.accounts.helpers import signed_in

    def login(user):
        return signed_in(client, user)

    return login
