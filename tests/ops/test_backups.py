"""Backups: `kiln backup` / `kiln restore` round trip, integrity checks, refusal, retention, nightly task.

The round trip runs on whichever database the suite runs on: SQLite through the online backup API,
PostgreSQL through pg_dump/pg_restore (skipped when those programs are not installed).
"""

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection

from kiln.audit.events import EventType
from kiln.audit.models import AuditEvent
from kiln.audit.services import record, verify_chain
from kiln.ops import backups, services
from kiln.ops.errors import OpsError
from kiln.ops.tasks import nightly_backup, nightly_time_utc
from kiln.registry.models import Enterprise
from tests.personas import build_world, enterprise

pytestmark = pytest.mark.django_db(transaction=True)

needs_pg_tools = pytest.mark.skipif(
    connection.vendor == "postgresql" and not (shutil.which("pg_dump") and shutil.which("pg_restore")),
    reason="pg_dump/pg_restore not installed",
)


def media_file(relative: str, content: bytes) -> Path:
    path = Path(django_settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def rewrite_archive(archive: Path, target: Path, *, manifest=None, parts=None) -> Path:
    """A copy of ``archive`` with the manifest and/or some parts replaced."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    if manifest is not None:
        members["manifest.json"] = json.dumps(manifest).encode()
    members.update(parts or {})
    with tarfile.open(target, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


@pytest.fixture
def populated():
    world = build_world()
    record(EventType.USER_UPDATED, actor=world.admin, target=world.e1_staff, after={"note": "before backup"})
    media_file("evidence/ab/abcdef.pdf", b"%PDF-1.7 evidence")
    media_file("uploads/2025-01.csv", "统一社会信用代码,月份\n".encode())
    return world


@needs_pg_tools
def test_round_trip(populated, tmp_path, capsys):
    call_command("backup", "--out", str(tmp_path / "out"))
    archive = next((tmp_path / "out").glob("kiln-backup-*.tar"))
    assert archive.stat().st_mode & 0o077 == 0  # the archive holds password hashes: owner only

    manifest = backups.verify_archive(archive)
    db_part = "database.sqlite3.gz" if connection.vendor == "sqlite" else "database.pgdump"
    assert set(manifest["parts"]) == {db_part, "media.tar.gz"}
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["counts"]["users"] == 7 and manifest["counts"]["enterprises"] == 2
    assert manifest["migrations"]["audit"] and manifest["migrations"]["ledger"]
    assert manifest["versions"]["kiln"] and manifest["versions"]["engine"]
    with tarfile.open(archive) as tar:
        assert tar.getnames()[0] == "manifest.json"
        for name, part in manifest["parts"].items():
            assert hashlib.sha256(tar.extractfile(name).read()).hexdigest() == part["sha256"]
    sidecar = archive.with_name(archive.name + ".sha256").read_text().split()[0]
    assert sidecar == hashlib.sha256(archive.read_bytes()).hexdigest()
    taken = AuditEvent.objects.filter(event_type=EventType.BACKUP_CREATED).get()
    assert taken.after["sha256"] == sidecar and taken.after["reason"] == "command"

    # Life goes on after the backup: a new enterprise, a new file, a changed file.
    enterprise("E3 水泥有限公司", populated.county_a, populated.cement, "MA0000003")
    media_file("uploads/late.csv", b"late")
    media_file("evidence/ab/abcdef.pdf", b"tampered")

    with pytest.raises(CommandError, match="KLN-OPS-013"):
        call_command("restore", str(archive))
    assert Enterprise.objects.count() == 3  # refused: nothing changed

    call_command("restore", str(archive), "--force")
    out = capsys.readouterr().out
    assert "Restored" in out and "previous files kept in" in out

    assert sorted(Enterprise.objects.values_list("name", flat=True)) == ["E1 水泥有限公司", "E2 水泥有限公司"]
    media = Path(django_settings.MEDIA_ROOT)
    assert (media / "evidence/ab/abcdef.pdf").read_bytes() == b"%PDF-1.7 evidence"
    assert (media / "uploads/2025-01.csv").exists() and not (media / "uploads/late.csv").exists()
    aside = next(media.parent.glob("media.before-restore-*"))
    assert (aside / "uploads/late.csv").read_bytes() == b"late"  # the files restore replaced are kept

    # The restored audit log is intact, and says it was restored.
    assert verify_chain().ok
    last = AuditEvent.objects.order_by("-id").first()
    assert last.event_type == EventType.BACKUP_RESTORED and last.after["counts_match"] is True
    assert not AuditEvent.objects.filter(
        event_type=EventType.BACKUP_CREATED
    ).exists()  # taken after the snapshot
    assert connection.introspection.table_names()  # still a working database
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # append-only triggers survived pg_restore
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")
            assert cursor.fetchone()[0] > 0


@needs_pg_tools
def test_restore_into_an_empty_database_needs_no_force(populated, tmp_path):
    info = backups.create_backup(tmp_path)
    call_command("flush", "--noinput")
    shutil.rmtree(django_settings.MEDIA_ROOT)
    assert not backups.database_in_use() and not backups.media_in_use()
    result = backups.restore_backup(info.path)
    assert result.counts_match and result.media_moved_aside is None
    assert Enterprise.objects.count() == 2
    assert (Path(django_settings.MEDIA_ROOT) / "evidence/ab/abcdef.pdf").exists()


def test_damaged_archive_is_refused_before_anything_changes(populated, tmp_path):
    if connection.vendor == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump not installed")
    info = backups.create_backup(tmp_path)
    damaged = rewrite_archive(info.path, tmp_path / "damaged.tar", parts={"media.tar.gz": b"not the files"})
    with pytest.raises(OpsError) as caught:
        backups.restore_backup(damaged, force=True)
    assert caught.value.code == "KLN-OPS-011"
    assert (Path(django_settings.MEDIA_ROOT) / "uploads/2025-01.csv").exists()

    extra = rewrite_archive(info.path, tmp_path / "extra.tar", parts={"../../etc/passwd": b"x"})
    with pytest.raises(OpsError) as caught:
        backups.verify_archive(extra)
    assert caught.value.code == "KLN-OPS-010"

    other = dict(info.manifest, database={"vendor": "oracle", "version": "?"})
    with pytest.raises(OpsError) as caught:
        backups.restore_backup(rewrite_archive(info.path, tmp_path / "other.tar", manifest=other), force=True)
    assert caught.value.code == "KLN-OPS-012"


def test_not_an_archive(tmp_path):
    junk = tmp_path / "kiln-backup-20250101T000000Z.tar"
    junk.write_bytes(b"hello")
    with pytest.raises(CommandError, match="KLN-OPS-010"):
        call_command("restore", str(junk))
    assert backups.list_backups(tmp_path) == []  # the listing skips it
    with pytest.raises(CommandError, match="No such file"):
        call_command("restore", str(tmp_path / "missing.tar"))


def test_missing_postgresql_client_is_a_clear_error(settings, tmp_path):
    settings.KILN_PG_BIN_DIR = str(tmp_path)  # nothing in there
    with pytest.raises(OpsError) as caught:
        backups.pg_program("pg_dump")
    assert caught.value.code == "KLN-OPS-002" and "postgresql-client" in str(caught.value)
    with pytest.raises(OpsError) as caught:
        backups.pg_program("pg_restore")
    assert caught.value.code == "KLN-OPS-003"
    if connection.vendor == "postgresql":
        with pytest.raises(CommandError, match="KLN-OPS-002"):
            call_command("backup")
        failed = AuditEvent.objects.get(event_type=EventType.BACKUP_FAILED)
        assert failed.after == {"reason": "command", "code": "KLN-OPS-002"}


def test_password_stays_off_the_command_line():
    env = backups.pg_environment(
        {
            "NAME": "kiln",
            "HOST": "db",
            "PORT": 5432,
            "USER": "kiln",
            "PASSWORD": "s3cret",
            "OPTIONS": {"sslmode": "verify-full"},
        }
    )
    assert env["PGPASSWORD"] == "s3cret" and env["PGSSLMODE"] == "verify-full" and env["PGDATABASE"] == "kiln"


def test_retention_keeps_the_newest(tmp_path, db):
    made = [backups.create_backup(tmp_path) for _ in range(3)]
    assert [b.name for b in backups.list_backups(tmp_path)] == [m.name for m in reversed(made)]
    assert backups.prune(0, tmp_path) == []
    removed = backups.prune(2, tmp_path)
    assert removed == [made[0].path]
    assert not made[0].path.exists() and not made[0].path.with_name(made[0].name + ".sha256").exists()
    assert len(backups.list_backups(tmp_path)) == 2


def test_nightly_task_backs_up_and_prunes(settings, db):
    settings.KILN_BACKUP_KEEP = 2
    for _ in range(3):
        nightly_backup.call_local()
    archives = backups.list_backups()
    assert len(archives) == 2 and all(a.path.parent == Path(settings.KILN_BACKUP_DIR) for a in archives)
    types = list(AuditEvent.objects.order_by("id").values_list("event_type", flat=True))
    assert types.count(EventType.BACKUP_CREATED) == 3 and types.count(EventType.BACKUPS_PRUNED) == 1
    pruned = AuditEvent.objects.get(event_type=EventType.BACKUPS_PRUNED)
    assert pruned.actor is None and pruned.after["keep"] == 2 and len(pruned.after["removed"]) == 1


def test_a_failed_backup_is_noted_then_cleared(monkeypatch, db):
    real = backups.create_backup

    def broken(out_dir=None, **kw):
        raise OpsError("KLN-OPS-001", "disk full")

    monkeypatch.setattr(backups, "create_backup", broken)
    with pytest.raises(OpsError):
        services.scheduled_backup()
    failure = backups.last_failure()
    assert failure["code"] == "KLN-OPS-001" and "disk full" in failure["error"]
    assert AuditEvent.objects.filter(event_type=EventType.BACKUP_FAILED).count() == 1
    monkeypatch.setattr(backups, "create_backup", real)
    services.scheduled_backup()
    assert backups.last_failure() is None


def test_nightly_time_is_local():
    assert nightly_time_utc("02:00", "Asia/Shanghai") == (18, 0)
    assert nightly_time_utc("23:45", "UTC") == (23, 45)


def test_settings_are_checked(settings, tmp_path):
    from kiln.ops.checks import operations_settings

    assert operations_settings() == []
    settings.KILN_BACKUP_AT = "2am"
    settings.KILN_METRICS_ALLOW = ["10.0.0.0/8", "intranet"]
    settings.KILN_BACKUP_DIR = settings.MEDIA_ROOT / "backups"
    assert [p.id for p in operations_settings()] == ["kiln_ops.E001", "kiln_ops.E002", "kiln_ops.W001"]
    assert nightly_time_utc("2am", "Asia/Shanghai") == (18, 0)  # falls back to 02:00
