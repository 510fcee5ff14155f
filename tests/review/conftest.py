import pytest

from kiln.accounts.models import Membership
from kiln.accounts.roles import Role
from kiln.registry.models import GovernmentDepartment
from tests.personas import user_with
from tests.reports.conftest import YEAR, reported  # noqa: F401 - shared fixture

__all__ = ["YEAR"]


def m(user):
    return Membership.objects.filter(user=user).select_related("organisation__region").first()


@pytest.fixture
def reviewers(reported):  # noqa: F811 - the shared fixture, by name
    """A county reviewer (preliminary) and a provincial reviewer (final) besides gov_a (city)."""
    world = reported
    county = GovernmentDepartment.objects.create(
        kind="government", name="溪南区生态环境分局", region=world.county_a
    )
    province = GovernmentDepartment.objects.create(
        kind="government", name="浙江省生态环境厅", region=world.province
    )
    world.gov_county = user_with("gov_county", county, Role.GOV_REVIEWER)
    world.gov_province = user_with("gov_province", province, Role.GOV_REVIEWER)
    return world
