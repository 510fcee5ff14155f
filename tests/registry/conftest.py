import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The personas' Argon2 hashes cost most of each test's setup; nothing here tests passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
