"""The System page (/ops/): platform admins only; the backup button is a POST, audited, run by the worker."""

from pathlib import Path

import django
import polars
import pytest
from django.conf import settings as django_settings

import kiln
from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent
from kiln.ops import backups
from tests.accounts.helpers import signed_in


@pytest.fixture
def admin_client(client, world):
    return signed_in(client, world.admin)


@pytest.mark.django_db
def test_admin_sees_readiness_versions_queue_and_backups(admin_client):
    response = admin_client.get("/ops/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-ready="1"' in html
    for check in ("database", "cache", "queue", "disk", "ledger_key"):
        assert f'data-check="{check}"' in html
    for version in (kiln.__version__, django.get_version(), polars.__version__):
        assert version in html
    assert 'id="queue-length"' in html and "No backups yet." in html
    assert 'action="/ops/backup/"' in html
    assert str(django_settings.KILN_BACKUP_DIR) in html


@pytest.mark.django_db
def test_page_in_chinese(admin_client):
    admin_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/ops/"})
    html = admin_client.get("/ops/").content.decode()
    assert '<html lang="zh-hans">' in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["gov_a", "gov_b", "e1_staff", "verifier_e1"])
def test_outsiders_get_404(client, world, persona):
    signed_in(client, getattr(world, persona))
    assert client.get("/ops/").status_code == 404
    assert client.post("/ops/backup/").status_code == 404
    assert not AuditEvent.objects.filter(event_type=EventType.BACKUP_REQUESTED).exists()


@pytest.mark.django_db
def test_anonymous_is_sent_to_log_in(client):
    assert client.get("/ops/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_backup_button_is_post_only(admin_client):
    assert admin_client.get("/ops/backup/").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_backup_now(admin_client, world, huey_immediate):
    import shutil

    from django.db import connection

    if connection.vendor == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump not installed")
    response = admin_client.post("/ops/backup/")
    assert response.status_code == 302 and response["Location"] == "/ops/"
    archives = backups.list_backups()
    assert len(archives) == 1 and archives[0].path.parent == Path(django_settings.KILN_BACKUP_DIR)
    requested = AuditEvent.objects.get(event_type=EventType.BACKUP_REQUESTED)
    taken = AuditEvent.objects.get(event_type=EventType.BACKUP_CREATED)
    assert requested.actor == world.admin and taken.actor == world.admin
    assert taken.after["reason"] == "manual" and taken.after["sha256"] == archives[0].sha256

    html = admin_client.get("/ops/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert archives[0].name in html and "No backups yet." not in html


@pytest.mark.django_db
def test_last_failure_is_shown(admin_client):
    from kiln.ops.errors import OpsError

    backups.note_failure(OpsError("KLN-OPS-002"))
    html = admin_client.get("/ops/").content.decode()
    assert 'role="alert"' in html and "KLN-OPS-002" in html


@pytest.mark.django_db
def test_system_link_only_for_platform_admins(client, world, admin_client):
    assert 'href="/ops/"' in admin_client.get("/").content.decode()
    other = signed_in(type(client)(), world.e1_staff)
    assert 'href="/ops/"' not in other.get("/").content.decode()
