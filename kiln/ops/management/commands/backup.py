"""``kiln backup [--out DIR]``: one consistent archive of the database and the uploaded files."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from kiln.ops import services
from kiln.ops.errors import OpsError


class Command(BaseCommand):
    help = "Write a backup archive (database snapshot, uploaded files, manifest with SHA-256 of each part)."

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, help="folder for the archive (default: KILN_BACKUP_DIR)")
        parser.add_argument(
            "--prune",
            action="store_true",
            help="then delete all but the KILN_BACKUP_KEEP newest archives in KILN_BACKUP_DIR",
        )

    def handle(self, *args, out=None, prune=False, **options):
        try:
            info = services.take_backup(actor=None, reason="command", out_dir=out)
        except OpsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{info.path}")
        self.stdout.write(f"  sha256 {info.sha256}")
        self.stdout.write(
            f"  {filesizeformat(info.size)}, {info.database}, counts {info.manifest.get('counts', {})}"
        )
        if prune:
            from django.conf import settings

            removed = services.prune(keep=int(getattr(settings, "KILN_BACKUP_KEEP", 7)), actor=None)
            for path in removed:
                self.stdout.write(f"  removed {path.name}")
