import pytest

from tests.personas import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def client_for(client):
    """Log the test client in as a persona: ``client_for(world.gov_a)``."""

    def login(user):
        client.force_login(user)
        return client

    return login
