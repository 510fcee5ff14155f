import pytest

from tests.personas import build_world


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is the production hasher (tests/accounts check it); personas need no slow hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


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
