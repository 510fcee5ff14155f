"""Backups: one archive holding a consistent database snapshot, the uploaded files and a manifest.

An archive is an uncompressed tar named ``kiln-backup-<UTC time>.tar`` with three members::

    manifest.json          format, time, versions, database engine, applied migrations, row counts,
                           the audit chain's head, and the SHA-256 and size of each part below
    database.sqlite3.gz    SQLite: the online backup API's copy, gzipped        (or)
    database.pgdump        PostgreSQL: ``pg_dump --format=custom``
    media.tar.gz           everything under MEDIA_ROOT (uploads, evidence; content-addressed)

The database is snapshotted first, then the files: files are only ever added, so every file the
snapshot refers to is in the archive (files added in between are harmless extras). On PostgreSQL
the row counts in the manifest come from the very snapshot ``pg_dump`` reads (``pg_export_snapshot``).
A ``<archive>.sha256`` file beside each archive holds the archive's own SHA-256.

``restore_backup`` checks every part against the manifest before it changes anything, refuses a
backup of another database engine, and refuses a target that is not empty unless ``force``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils import timezone

from kiln.ops.errors import OpsError
from kiln.ops.versions import database_version, versions

FORMAT = "kiln-backup/1"
MANIFEST = "manifest.json"
SQLITE_PART = "database.sqlite3.gz"
PG_PART = "database.pgdump"
MEDIA_PART = "media.tar.gz"
ARCHIVE_RE = re.compile(r"^kiln-backup-(\d{8}T\d{6}Z)(?:-(\d+))?\.tar$")
FAILURE_FILE = "last-failure.json"
CHUNK = 1024 * 1024
# Rows counted into the manifest (and compared after a restore).
COUNTED = {
    "users": "accounts.User",
    "enterprises": "registry.Enterprise",
    "activity_rows": "intake.ActivityRecord",
    "audit_events": "audit.AuditEvent",
    "ledger_entries": "ledger.LedgerEntry",
}
# A database holding any of these rows is in use: restoring over it needs --force.
IN_USE = ("accounts.User", "registry.Region", "registry.Organisation", "audit.AuditEvent")


def backup_dir() -> Path:
    return Path(getattr(settings, "KILN_BACKUP_DIR", Path(settings.VAR_DIR) / "backups"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _table(label: str) -> str | None:
    try:
        return apps.get_model(label)._meta.db_table
    except LookupError:
        return None


# --- PostgreSQL client programs -----------------------------------------------------------------------


def pg_program(name: str) -> str:
    directory = getattr(settings, "KILN_PG_BIN_DIR", "") or None
    found = shutil.which(name, path=directory) if directory else shutil.which(name)
    if not found:
        raise OpsError("KLN-OPS-002" if name == "pg_dump" else "KLN-OPS-003")
    return found


PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}


def pg_environment(settings_dict: dict) -> dict[str, str]:
    """libpq environment for the connection (the password never appears on a command line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    for option, var in PG_OPTION_ENV.items():
        if settings_dict.get("OPTIONS", {}).get(option):
            env[var] = str(settings_dict["OPTIONS"][option])
    env["PGDATABASE"] = str(settings_dict["NAME"])
    env["PGAPPNAME"] = "kiln-backup"
    return env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip()[-2000:]
        raise OpsError("KLN-OPS-004", f"{Path(cmd[0]).name} exited with {result.returncode}: {tail}")


# --- snapshot -------------------------------------------------------------------------------------------


def _counts_with(execute, quote, existing: set[str]) -> tuple[dict[str, int], str]:
    """Row counts of ``COUNTED`` and the audit chain's head, through ``execute(sql) -> rows``."""
    counts: dict[str, int] = {}
    for key, label in COUNTED.items():
        table = _table(label)
        if table in existing:
            counts[key] = int(execute(f"SELECT COUNT(*) FROM {quote(table)}")[0][0])  # noqa: S608
    head = ""
    table = _table("audit.AuditEvent")
    if table in existing:
        rows = execute(f"SELECT hash FROM {quote(table)} ORDER BY id DESC LIMIT 1")  # noqa: S608
        head = rows[0][0] if rows else ""
    return counts, head


def _snapshot_sqlite(connection, workdir: Path) -> tuple[Path, dict[str, int], str]:
    """The online backup API copies a consistent snapshot while Kiln keeps running."""
    copy = workdir / "database.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(str(copy))
    try:
        connection.connection.backup(target)
        existing = {row[0] for row in target.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        counts, head = _counts_with(lambda sql: target.execute(sql).fetchall(), lambda t: f'"{t}"', existing)
    finally:
        target.close()
    part = workdir / SQLITE_PART
    with open(copy, "rb") as source, gzip.open(part, "wb", compresslevel=6) as sink:
        shutil.copyfileobj(source, sink, CHUNK)
    copy.unlink()
    return part, counts, head


def _snapshot_postgresql(connection, workdir: Path) -> tuple[Path, dict[str, int], str]:
    """``pg_dump -Fc``; the counts come from the snapshot pg_dump reads (when not inside a transaction)."""
    pg_dump = pg_program("pg_dump")
    part = workdir / PG_PART
    env = pg_environment(connection.settings_dict)
    cmd = [pg_dump, "--format=custom", "--no-password", f"--file={part}"]
    quote = connection.ops.quote_name
    existing = set(connection.introspection.table_names())

    def execute(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []

    if connection.in_atomic_block:  # a caller's transaction: pg_dump cannot share its snapshot
        counts, head = _counts_with(execute, quote, existing)
        _run(cmd, env)
        return part, counts, head
    from django.db import transaction

    with transaction.atomic(using=connection.alias):
        execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = execute("SELECT pg_export_snapshot()")[0][0]
        counts, head = _counts_with(execute, quote, existing)
        _run([*cmd, f"--snapshot={snapshot}"], env)
    return part, counts, head


def _media_tar(part: Path) -> None:
    media = Path(settings.MEDIA_ROOT)
    skip = {backup_dir().resolve()}

    def only_files(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if not (info.isfile() or info.isdir()):
            return None  # links and devices have no place in uploads
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(part, "w:gz", compresslevel=6) as tar:
        if not media.is_dir():
            folder = tarfile.TarInfo("media")
            folder.type, folder.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(folder)
            return
        tar.add(media, arcname="media", recursive=False, filter=only_files)
        for root, dirs, files in os.walk(media):
            root_path = Path(root)
            dirs[:] = sorted(d for d in dirs if (root_path / d).resolve() not in skip)
            for name in sorted(dirs) + sorted(files):
                path = root_path / name
                tar.add(
                    path,
                    arcname=str(Path("media") / path.relative_to(media)),
                    recursive=False,
                    filter=only_files,
                )


def _applied_migrations(connection) -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    latest: dict[str, str] = {}
    try:
        for app, name in (
            MigrationRecorder(connection).migration_qs.order_by("app", "name").values_list("app", "name")
        ):
            latest[app] = name
    except DatabaseError:
        return {}
    return latest


def _archive_name(directory: Path, now: dt.datetime) -> Path:
    stem = f"kiln-backup-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    path, n = directory / f"{stem}.tar", 1
    while path.exists():
        n += 1
        path = directory / f"{stem}-{n}.tar"
    return path


@dataclass
class BackupInfo:
    path: Path
    created: dt.datetime
    size: int
    manifest: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def database(self) -> str:
        return self.manifest.get("database", {}).get("vendor", "")


def create_backup(out_dir: Path | None = None, *, using: str = DEFAULT_DB_ALIAS) -> BackupInfo:
    """Write one archive into ``out_dir`` (default ``KILN_BACKUP_DIR``); returns what was written."""
    directory = Path(out_dir) if out_dir else backup_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        directory.chmod(0o700)
    connection = connections[using]
    now = timezone.now()
    final = _archive_name(directory, now)
    workdir = Path(tempfile.mkdtemp(prefix=".kiln-backup-", dir=directory))
    partial = final.with_name(final.name + ".partial")
    try:
        if connection.vendor == "sqlite":
            db_part, counts, head = _snapshot_sqlite(connection, workdir)
        elif connection.vendor == "postgresql":
            db_part, counts, head = _snapshot_postgresql(connection, workdir)
        else:
            raise OpsError("KLN-OPS-005", connection.vendor)
        media_part = workdir / MEDIA_PART
        _media_tar(media_part)
        manifest = {
            "format": FORMAT,
            "created": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "versions": versions(),
            "database": {"vendor": connection.vendor, "version": database_version(connection)},
            "migrations": _applied_migrations(connection),
            "counts": counts,
            "audit_head": head,
            "parts": {
                part.name: {"sha256": sha256_file(part), "bytes": part.stat().st_size}
                for part in (db_part, media_part)
            },
        }
        manifest_path = workdir / MANIFEST
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as tar:
            for part in (manifest_path, db_part, media_part):  # the manifest first: listing reads only it
                tar.add(part, arcname=part.name, recursive=False)
        digest = sha256_file(partial)
        os.replace(partial, final)
        final.with_name(final.name + ".sha256").write_text(f"{digest}  {final.name}\n", encoding="utf-8")
    except OpsError:
        raise
    except OSError as exc:
        raise OpsError("KLN-OPS-001", str(exc)) from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return BackupInfo(path=final, created=now, size=final.stat().st_size, manifest=manifest, sha256=digest)


# --- reading --------------------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, "r:") as tar:
            member = tar.next()
            if member is None or member.name != MANIFEST or not member.isfile():
                raise OpsError("KLN-OPS-010", str(path))
            handle = tar.extractfile(member)
            manifest = json.loads(handle.read().decode("utf-8")) if handle else {}
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise OpsError("KLN-OPS-010", str(path)) from exc
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("parts"), dict):
        raise OpsError("KLN-OPS-010", str(path))
    return manifest


def verify_archive(path: Path) -> dict[str, Any]:
    """The manifest, once every part's SHA-256 and size match it and nothing else is in the archive."""
    manifest = read_manifest(path)
    expected = manifest["parts"]
    seen = set()
    with tarfile.open(path, "r:") as tar:
        for member in tar:
            if member.name == MANIFEST:
                continue
            if member.name not in expected or not member.isfile() or member.name in seen:
                raise OpsError("KLN-OPS-010", f"unexpected member {member.name!r}")
            seen.add(member.name)
            digest = hashlib.sha256()
            handle = tar.extractfile(member)
            while handle and (chunk := handle.read(CHUNK)):
                digest.update(chunk)
            if (
                digest.hexdigest() != expected[member.name]["sha256"]
                or member.size != expected[member.name]["bytes"]
            ):
                raise OpsError("KLN-OPS-011", member.name)
    if seen != set(expected):
        raise OpsError("KLN-OPS-011", "missing: " + ", ".join(sorted(set(expected) - seen)))
    return manifest


def list_backups(directory: Path | None = None) -> list[BackupInfo]:
    """The archives in ``directory`` (default ``KILN_BACKUP_DIR``), newest first; unreadable ones skipped."""
    directory = Path(directory) if directory else backup_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        if not ARCHIVE_RE.match(path.name) or not path.is_file():
            continue
        try:
            manifest = read_manifest(path)
            created = dt.datetime.fromisoformat(manifest["created"].replace("Z", "+00:00"))
        except (OpsError, KeyError, ValueError):
            continue
        sidecar = path.with_name(path.name + ".sha256")
        digest = sidecar.read_text().split()[0] if sidecar.is_file() else ""
        found.append(
            BackupInfo(path=path, created=created, size=path.stat().st_size, manifest=manifest, sha256=digest)
        )
    found.sort(key=lambda b: (b.created, b.name), reverse=True)
    return found


def prune(keep: int, directory: Path | None = None) -> list[Path]:
    """Delete all but the ``keep`` newest archives (and their .sha256 files); ``keep`` 0 keeps all."""
    if keep <= 0:
        return []
    removed = []
    for info in list_backups(directory)[keep:]:
        info.path.unlink(missing_ok=True)
        info.path.with_name(info.name + ".sha256").unlink(missing_ok=True)
        removed.append(info.path)
    return removed


def note_failure(error: Exception, directory: Path | None = None) -> None:
    directory = Path(directory) if directory else backup_dir()
    with contextlib.suppress(OSError):
        directory.mkdir(parents=True, exist_ok=True)
        payload = {
            "time": timezone.now().isoformat(),
            "code": getattr(error, "code", ""),
            "error": str(error)[:2000],
        }
        (directory / FAILURE_FILE).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")


def clear_failure(directory: Path | None = None) -> None:
    directory = Path(directory) if directory else backup_dir()
    (directory / FAILURE_FILE).unlink(missing_ok=True)


def last_failure(directory: Path | None = None) -> dict[str, Any] | None:
    path = (Path(directory) if directory else backup_dir()) / FAILURE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["time"] = dt.datetime.fromisoformat(data["time"])
        return data
    except (OSError, ValueError, KeyError):
        return None


# --- restoring ------------------------------------------------------------------------------------------


def database_in_use(using: str = DEFAULT_DB_ALIAS) -> bool:
    """True when the database holds users, regions, organisations or audit events."""
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    for label in IN_USE:
        table = _table(label)
        if table and table in existing:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608
                if cursor.fetchone():
                    return True
    return False


def media_in_use() -> bool:
    media = Path(settings.MEDIA_ROOT)
    return media.is_dir() and any(p.is_file() for p in media.rglob("*"))


def _extract_part(archive: Path, name: str, target: Path) -> Path:
    with tarfile.open(archive, "r:") as tar:
        handle = tar.extractfile(tar.getmember(name))
        if handle is None:
            raise OpsError("KLN-OPS-010", name)
        with open(target, "wb") as sink:
            shutil.copyfileobj(handle, sink, CHUNK)
    return target


def _restore_sqlite(connection, part: Path, workdir: Path) -> None:
    copy = workdir / "database.sqlite3"
    with gzip.open(part, "rb") as source, open(copy, "wb") as sink:
        shutil.copyfileobj(source, sink, CHUNK)
    source_db = sqlite3.connect(str(copy))
    try:
        connection.close()
        connection.ensure_connection()
        source_db.backup(connection.connection)  # page by page: schema, triggers and rows as they were
    finally:
        source_db.close()
        connection.close()


def _restore_postgresql(connection, part: Path) -> None:
    pg_restore = pg_program("pg_restore")
    has_tables = bool(connection.introspection.table_names())
    env = pg_environment(connection.settings_dict)
    connection.close()  # pg_restore must not wait for our locks
    cmd = [
        pg_restore,
        "--no-password",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
    ]
    if has_tables:
        cmd += ["--clean", "--if-exists"]
    _run([*cmd, f"--dbname={connection.settings_dict['NAME']}", str(part)], env)


def _restore_media(part: Path, workdir: Path, stamp: str) -> Path | None:
    """Unpack into a staging folder beside MEDIA_ROOT, then swap; a non-empty old folder is kept aside."""
    media = Path(settings.MEDIA_ROOT)
    media.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".media-restore-", dir=media.parent))
    moved_aside = None
    try:
        with tarfile.open(part, "r:gz") as tar:
            tar.extractall(staging, filter="data")
        unpacked = staging / "media"
        unpacked.mkdir(exist_ok=True)
        if media.is_dir() and any(media.iterdir()):
            moved_aside = media.with_name(f"{media.name}.before-restore-{stamp}")
            media.rename(moved_aside)
        elif media.is_dir():
            media.rmdir()
        unpacked.rename(media)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return moved_aside


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    counts: dict[str, int]
    media_moved_aside: Path | None

    @property
    def counts_match(self) -> bool:
        expected = self.manifest.get("counts", {})
        return all(self.counts.get(k) == v for k, v in expected.items())


def restore_backup(archive: Path, *, force: bool = False, using: str = DEFAULT_DB_ALIAS) -> RestoreResult:
    archive = Path(archive)
    manifest = verify_archive(archive)
    connection = connections[using]
    vendor = manifest.get("database", {}).get("vendor")
    if vendor != connection.vendor:
        raise OpsError("KLN-OPS-012", f"{vendor} → {connection.vendor}")
    if not force and (database_in_use(using) or media_in_use()):
        raise OpsError("KLN-OPS-013")
    stamp = f"{timezone.now().astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    workdir = Path(tempfile.mkdtemp(prefix=".kiln-restore-", dir=archive.parent))
    try:
        if vendor == "sqlite":
            _restore_sqlite(connection, _extract_part(archive, SQLITE_PART, workdir / SQLITE_PART), workdir)
        else:
            _restore_postgresql(connection, _extract_part(archive, PG_PART, workdir / PG_PART))
        moved = _restore_media(_extract_part(archive, MEDIA_PART, workdir / MEDIA_PART), workdir, stamp)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def execute(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    counts, _head = _counts_with(
        execute, connection.ops.quote_name, set(connection.introspection.table_names())
    )
    return RestoreResult(manifest=manifest, counts=counts, media_moved_aside=moved)
