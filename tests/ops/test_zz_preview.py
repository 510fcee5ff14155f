# Scratch (deleted after use): the System page and identity pages with the TSV translations compiled in.
import pytest

from tests.ops.test_browser import *  # noqa: F403
from tests.ops.test_browser import test_system_page_and_backup_now as _real


@pytest.fixture(autouse=True)
def _catalogue(settings):
    settings.LOCALE_PATHS = ["/tmp/kw/locale"]


def test_preview(session, world, settings, huey_immediate):
    _real(session, world, settings, huey_immediate, "zh-hans")
