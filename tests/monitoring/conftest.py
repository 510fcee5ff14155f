"""A small monitored city: the personas' world plus a second county, a second industry and two years.

City A (339900) has counties 339902 (E1 cement, E3 textiles) and 339903 (E4 cement, E5 textiles);
county 339904 exists but has no enterprise. City B (339800) has E2. Every enterprise reports coal,
electricity, gas and heat for each month of 2023 and 2024; official runs exist for city A (2023,
2024) and city B (2024).
"""

from __future__ import annotations

import pytest

from kiln.accounting import services as accounting
from kiln.accounts.models import Membership
from kiln.accounts.roles import Role
from kiln.factors import services as factor_services
from kiln.intake.models import ActivityRecord, ImportBatch
from kiln.registry import credit_code
from kiln.registry.models import Enterprise, GovernmentDepartment, Industry, Region
from tests.personas import user_with

YEARS = (2023, 2024)
FACTOR_SET = "CN-DEFAULT-2024"

# item, unit, monthly quantity for (cement, textiles)
ITEMS = [
    ("raw_coal", "t", (9000.0, 300.0)),
    ("electricity_purchased", "MWh", (6000.0, 800.0)),
    ("natural_gas", "1e4Nm3", (5.0, 12.0)),
    ("heat_purchased", "GJ", (0.0, 9000.0)),
    ("diesel", "t", (40.0, 3.0)),
]


def monthly_rows(kind: int, scale: float, year: int) -> list[tuple[str, str, float, str]]:
    rows = []
    growth = 1.0 if year == 2024 else 0.9
    for month in range(1, 13):
        season = 1.0 + 0.04 * ((month * 7) % 5) - (0.25 if month == 2 else 0.0)
        for item, unit, levels in ITEMS:
            quantity = round(levels[kind] * scale * season * growth, 3)
            if quantity:
                rows.append((f"{year}-{month:02d}", item, quantity, unit))
    return rows


def add_records(enterprise, rows):
    batch = ImportBatch.objects.create(door="cli", status="imported", row_count=len(rows), organisation=enterprise)
    ActivityRecord.objects.bulk_create(
        ActivityRecord(enterprise=enterprise, period=p, item=i, quantity=q, unit=u, canonical_quantity=q, batch=batch)
        for p, i, q, u in rows
    )


class City:
    """The world of ``tests.personas`` with the monitored data on top."""

    def __init__(self, world):
        self.world = world
        self.__dict__.update(world.__dict__)


def build_city(world) -> City:
    c = City(world)
    c.county_b = Region.objects.create(code="339903", name="青湖区", name_en="Qinghu", level=3, parent=world.city_a)
    c.county_empty = Region.objects.create(code="339904", name="临江区", name_en="Linjiang", level=3,
                                           parent=world.city_a)
    section = Industry.objects.get(code="C")
    textiles_division = Industry.objects.create(code="C17", name="纺织业", name_en="Textiles", level=1, parent=section)
    c.textiles = Industry.objects.create(code="C1713", name="棉印染精加工", name_en="Cotton dyeing", level=3,
                                         parent=textiles_division)
    c.cement_division = Industry.objects.get(code="C30")
    c.textiles_division = textiles_division

    def enterprise(name, county, industry, body, key=False):
        return Enterprise.objects.create(name=name, name_en=name.replace("有限公司", " Co."),
                                         credit_code=credit_code.make("9", "1", county.code, body),
                                         region=county, industry=industry, key_emitter=key)

    c.e3 = enterprise("E3 印染有限公司", world.county_a, c.textiles, "MA0000003")
    c.e4 = enterprise("E4 水泥有限公司", c.county_b, world.cement, "MA0000004", key=True)
    c.e5 = enterprise("E5 印染有限公司", c.county_b, c.textiles, "MA0000005")
    # (enterprise, kind 0 cement / 1 textiles, size)
    c.plan = [(world.e1, 0, 1.0), (c.e3, 1, 1.0), (c.e4, 0, 1.6), (c.e5, 1, 0.5), (world.e2, 0, 0.8)]
    for firm, kind, scale in c.plan:
        add_records(firm, [r for year in YEARS for r in monthly_rows(kind, scale, year)])
    c.sets = {s.code: s for s in factor_services.load_shipped()}
    c.runs = {}
    for year in YEARS:
        c.runs[(world.city_a.code, year)] = accounting.calculate(
            actor=world.gov_a, region=world.city_a, year=year, factor_set=c.sets[FACTOR_SET])
    c.runs[(world.city_b.code, 2024)] = accounting.calculate(
        actor=world.gov_b, region=world.city_b, year=2024, factor_set=c.sets[FACTOR_SET])
    county_org = GovernmentDepartment.objects.create(kind="government", name="青湖区经信局", region=c.county_b)
    empty_org = GovernmentDepartment.objects.create(kind="government", name="临江区经信局", region=c.county_empty)
    c.gov_county = user_with("gov_county", county_org, Role.GOV_VIEWER)
    c.gov_empty = user_with("gov_empty", empty_org, Role.GOV_VIEWER)
    c.e3_staff = user_with("e3_staff", c.e3, Role.ENTERPRISE_REPORTER)
    return c


@pytest.fixture
def city(world):
    return build_city(world)


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        session = client.session
        session.pop("kiln_membership", None)
        session.save()
        return client

    return as_user


def memberships_of(user):
    return list(Membership.objects.filter(user=user))
