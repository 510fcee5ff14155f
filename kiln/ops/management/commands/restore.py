"""``kiln restore ARCHIVE [--force]``: put a backup back. Stop the web server and the worker first."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kiln.ops import services
from kiln.ops.errors import OpsError


class Command(BaseCommand):
    help = (
        "Restore a backup archive into the configured database and MEDIA_ROOT. Every part is checked "
        "against the manifest first. A database that holds users, regions, organisations or audit events, "
        "or a non-empty MEDIA_ROOT, is only overwritten with --force (the old MEDIA_ROOT is kept aside)."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument("--force", action="store_true", help="overwrite a database and files in use")

    def handle(self, *args, archive: Path, force=False, **options):
        if not archive.is_file():
            raise CommandError(f"No such file: {archive}")
        try:
            result = services.restore(archive, force=force)
        except OpsError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        self.stdout.write(
            f"Restored {archive.name} (taken {manifest.get('created')}, Kiln {manifest['versions']['kiln']})."
        )
        self.stdout.write(f"  counts {result.counts}")
        if not result.counts_match:
            self.stderr.write(f"  counts differ from the manifest's {manifest.get('counts')}")
        if result.media_moved_aside:
            self.stdout.write(f"  previous files kept in {result.media_moved_aside}")
        self.stdout.write("Now run: kiln migrate (if this Kiln is newer than the backup), then start Kiln.")
