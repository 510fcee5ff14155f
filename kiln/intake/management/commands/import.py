"""``kiln import activity FILE [--dry-run] [--json] [--as USERNAME]``: the command-line door.

Exits 0 when the file is valid and was imported (or would be, with ``--dry-run``), 1 when
it was rejected; ``--json`` prints the result with its error report on stdout. Without
``--as`` the import runs as the platform itself, with every enterprise in scope.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kiln.accounts.models import Membership, User
from kiln.accounts.roles import Perm
from kiln.intake.errors import IntakeError
from kiln.intake.models import ImportBatch
from kiln.intake.services import import_activity


class Command(BaseCommand):
    help = "Import monthly activity data from a CSV or XLSX file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["activity"], help="what the file holds")
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check only; save nothing")
        parser.add_argument("--json", action="store_true", help="print the result and error report as JSON")
        parser.add_argument(
            "--as", dest="username", help="act as this user (their first membership that may submit data)"
        )
        parser.add_argument("--reason", help="import as a correction of stored data, for this reason")

    def handle(self, *args, kind, file: Path, dry_run, json: bool, username, reason, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        actor, membership = self._acting(username)
        try:
            with file.open("rb") as handle:
                result = import_activity(
                    handle,
                    actor=actor,
                    membership=membership,
                    door=ImportBatch.Door.CLI,
                    dry_run=dry_run,
                    correction_reason=reason,
                    file_name=file.name,
                )
        except IntakeError as exc:
            raise CommandError(f"{exc.code}: {exc}") from exc
        if json:
            self.stdout.write(_json(result.as_dict()))
        else:
            self._summary(result)
        if not result.ok:
            raise CommandError(f"rejected: {result.error_count} error(s); nothing was saved", returncode=1)

    def _acting(self, username):
        if not username:
            return None, None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        for membership in (
            Membership.objects.filter(user=user, active=True).select_related("organisation").order_by("id")
        ):
            if membership.has_perm(Perm.SUBMIT_DATA):
                return user, membership
        raise CommandError(f"{username} holds no role that may submit activity data")

    def _summary(self, result):
        if result.ok:
            verb = "would import" if result.dry_run else "imported"
            self.stdout.write(
                f"{verb} {result.rows} rows ({result.source_format}); batch {result.batch_id}"
                + (f", ledger entry {result.ledger_index}" if result.ledger_index is not None else "")
            )
            return
        for e in result.as_dict()["errors"]:
            self.stdout.write(
                f"row {e['row'] if e['row'] is not None else '-'}\t{e['column']}\t{e['code']}\t{e['message_en']}"
            )
        if result.report.get("truncated"):
            self.stdout.write(
                "… counts: " + ", ".join(f"{c}×{n}" for c, n in result.report["counts"].items())
            )


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
