"""``kiln import-economic FILE [--dry-run] [--json] [--as USERNAME] [--reason TEXT]``.

Imports economic data (value added and output value per enterprise and year) from CSV or XLSX, all
or nothing. Exits 0 when the file is valid and was imported (or would be, with ``--dry-run``), 1 when
it was rejected. Without ``--as`` the import runs as the platform, with every enterprise in scope.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kiln.accounts.models import Membership, User
from kiln.efficiency.models import EconomicBatch
from kiln.efficiency.queries import can_import
from kiln.efficiency.services import import_economic


class Command(BaseCommand):
    help = "Import economic data for the carbon-efficiency code from a CSV or XLSX file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check only; save nothing")
        parser.add_argument("--json", action="store_true", help="print the result and its errors as JSON")
        parser.add_argument(
            "--as", dest="username", help="act as this user (their first role that may import)"
        )
        parser.add_argument("--reason", default="", help="why stored figures are corrected (recorded)")

    def handle(
        self, *args, file: Path, dry_run: bool, json: bool, username: str | None, reason: str, **options
    ):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        actor, membership = self._acting(username)
        result = import_economic(
            file.read_bytes(),
            actor=actor,
            membership=membership,
            door=EconomicBatch.Door.CLI,
            dry_run=dry_run,
            file_name=file.name,
            reason=reason,
        )
        if json:
            self.stdout.write(_dumps(result.as_dict()))
        elif result.ok:
            verb = "would import" if dry_run else "imported"
            self.stdout.write(
                f"{verb} {result.rows} rows ({result.source_format}): {result.created} new, "
                f"{result.corrected} corrected, {result.unchanged} unchanged"
                + (f"; batch {result.batch_id}" if result.batch_id else "")
            )
        else:
            for e in result.errors:
                row = "-" if e.row is None else e.row
                self.stdout.write(f"row {row}\t{e.column}\t{e.value}\t{e.code}\t{e.message}")
        if not result.ok:
            raise CommandError(f"rejected: {len(result.errors)} error(s); nothing was saved", returncode=1)

    def _acting(self, username):
        if not username:
            return None, None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        memberships = Membership.objects.filter(user=user, active=True).select_related("organisation__region")
        for membership in memberships.order_by("id"):
            if can_import(membership):
                return user, membership
        raise CommandError(f"{username} holds no role that may import economic data")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
