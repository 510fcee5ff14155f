from __future__ import annotations

import pytest

# A fixed Ed25519 seed so signatures are reproducible; never a real key.
SIGNING_SEED = "5a" * 32


@pytest.fixture
def ledger_settings(settings, tmp_path):
    settings.KILN_LEDGER_SIGNING_KEY = SIGNING_SEED
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    return settings


@pytest.fixture
def ledger(db, ledger_settings):
    """An empty ledger with a known signing key and a private MEDIA_ROOT."""
    from django.db import connection

    from kiln.ledger import services, triggers

    triggers.install(connection)  # idempotent; also covers --nomigrations runs, which skip 0002

    return services
