import pytest

from kiln.ops.metrics import COLLECTOR
from tests.accounts.helpers import FAST_HASHERS


@pytest.fixture(autouse=True)
def _ops_dirs(settings, tmp_path):
    """Backups and uploads of these tests live under tmp_path, never in var/."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.KILN_BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.KILN_METRICS_TOKEN = ""
    settings.KILN_METRICS_ALLOW = []
    COLLECTOR.clear()
    yield
    COLLECTOR.clear()


@pytest.fixture
def huey_immediate():
    """Background tasks run in-process when enqueued (after the request's transaction commits)."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    try:
        yield HUEY
    finally:
        HUEY.immediate = False
