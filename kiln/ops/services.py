"""Every operations action that changes something, each with its audit event (DESIGN.md rule 2).

A backup is not a database change, so it runs outside any transaction (``pg_dump`` must see
committed data through its own snapshot); its audit event is written once the archive is complete.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.ops import backups


def _target(info: backups.BackupInfo) -> tuple[str, str, str]:
    return ("backup", info.name[:64], info.name)


def take_backup(*, actor, reason: str, out_dir: Path | None = None, request=None) -> backups.BackupInfo:
    """Write one archive; audited as taken (602) or failed (603, with the stable code)."""
    try:
        info = backups.create_backup(out_dir)
    except Exception as exc:
        if out_dir is None:
            backups.note_failure(exc)
        with transaction.atomic():
            record(
                EventType.BACKUP_FAILED,
                actor=actor,
                target=("backup", "", str(out_dir or backups.backup_dir())),
                after={"reason": reason, "code": getattr(exc, "code", type(exc).__name__)},
                request=request,
            )
        raise
    if out_dir is None:
        backups.clear_failure()
    with transaction.atomic():
        record(
            EventType.BACKUP_CREATED,
            actor=actor,
            target=_target(info),
            after={
                "reason": reason,
                "path": str(info.path),
                "bytes": info.size,
                "sha256": info.sha256,
                "database": info.database,
                "counts": info.manifest.get("counts", {}),
            },
            request=request,
        )
    return info


@transaction.atomic
def request_backup(*, actor, request=None) -> None:
    """The System page's button: audited now (601); the worker takes the backup when this commits."""
    from kiln.ops.tasks import backup_now

    record(EventType.BACKUP_REQUESTED, actor=actor, target=("backup", "", "manual"), request=request)
    actor_id = actor.pk
    transaction.on_commit(lambda: backup_now(actor_id))


def scheduled_backup() -> backups.BackupInfo:
    """The nightly backup, then retention: all but the ``KILN_BACKUP_KEEP`` newest archives go."""
    info = take_backup(actor=None, reason="scheduled")
    prune(keep=int(getattr(settings, "KILN_BACKUP_KEEP", 7)), actor=None)
    return info


def prune(*, keep: int, actor) -> list[Path]:
    removed = backups.prune(keep)
    if removed:
        with transaction.atomic():
            record(
                EventType.BACKUPS_PRUNED,
                actor=actor,
                target=("backup", "", str(backups.backup_dir())),
                after={"keep": keep, "removed": [p.name for p in removed]},
            )
    return removed


def restore(archive: Path, *, force: bool, actor=None) -> backups.RestoreResult:
    """Restore, then write the restore into the restored audit log (604)."""
    result = backups.restore_backup(archive, force=force)
    with transaction.atomic():
        record(
            EventType.BACKUP_RESTORED,
            actor=actor,
            target=("backup", Path(archive).name[:64], Path(archive).name),
            after={
                "created": result.manifest.get("created"),
                "forced": force,
                "counts": result.counts,
                "counts_match": result.counts_match,
            },
        )
    return result
