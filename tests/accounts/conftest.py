import pytest
from django.core.cache import cache

from tests.accounts.helpers import FAST_HASHERS


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """Argon2 costs ~0.3 s a hash here; these tests hash hundreds of passwords (test_passwords checks Argon2)."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps rate limits and spent TOTP codes in the cache: start each test clean."""
    cache.clear()
    yield
    cache.clear()
